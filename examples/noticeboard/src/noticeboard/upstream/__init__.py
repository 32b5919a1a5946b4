"""The noticeboard's readers of other contexts' events: one module per producing context."""
