module network-watcher/bench/go

go 1.19
