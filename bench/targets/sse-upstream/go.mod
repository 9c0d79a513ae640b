module sluice.dev/bench/sse-upstream

go 1.26
