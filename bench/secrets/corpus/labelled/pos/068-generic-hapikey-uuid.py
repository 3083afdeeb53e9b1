hapikey = '5e81132b-0af3-47d9-a5e3-016da536af9c'
