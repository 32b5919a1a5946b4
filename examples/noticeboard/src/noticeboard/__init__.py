"""The kit's example service: an office posts notices to a grid; it knows how many
registered buildings each grid has from registration's events (see ``README.md``)."""
