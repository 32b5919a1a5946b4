from _fakecore import main

main("NODEMO", with_demo=False)
