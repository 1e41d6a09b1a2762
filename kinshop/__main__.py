from kinshop.cli import main

main()
