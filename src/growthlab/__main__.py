from growthlab.cli import main

main()
