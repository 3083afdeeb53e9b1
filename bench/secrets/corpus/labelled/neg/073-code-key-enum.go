const keyDown = "ArrowDown"
