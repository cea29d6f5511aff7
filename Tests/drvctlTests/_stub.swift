// placeholder build file
