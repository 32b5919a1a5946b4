from _fakecore import main

main("FAKE")
