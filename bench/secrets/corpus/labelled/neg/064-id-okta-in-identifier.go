rookTable := "004e7TcFtp1YYBL2Stgq2jVVJXe-YrWKgw3ePqhaI0"
