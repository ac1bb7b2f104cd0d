from liveevents.cli import main

main()
