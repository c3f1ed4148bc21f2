from akslbctl.entry import main

main()
