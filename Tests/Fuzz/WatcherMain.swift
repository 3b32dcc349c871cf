// What the Watcher fuzz targets need from main.swift, which they leave out so
// that libFuzzer's main is the program's (scripts/fuzz.sh compiles this in).
let watcherVersion = "fuzz"
