# benchtable.awk turns `go test -bench` output into a Markdown table: one row
# per benchmark, with its metrics in the order go test prints them (time per
# operation first, then the benchmark's own metrics by name).
function duration(ns) {
	if (ns >= 1e9) return sprintf("%.1f s", ns / 1e9)
	if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
	if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
	return ns " ns"
}
/^pkg: / { pkg = $2; sub(/^github\.com\/breachflow\/breachflow\//, "", pkg) }
/^Benchmark[^ \t]+[ \t]+[0-9]+[ \t]+[0-9.e+]+ ns\/op/ {
	name = $1
	sub(/-[0-9]+$/, "", name)
	res = ""
	for (i = 3; i < NF; i += 2) {
		m = ($(i + 1) == "ns/op") ? duration($i) "/op" : $i " " $(i + 1)
		res = res (res == "" ? "" : " · ") m
	}
	rows[++n] = "| `" pkg "` | " name " | " $2 " | " res " |"
}
END {
	print "| package | benchmark | runs | result |"
	print "|---|---|---|---|"
	for (i = 1; i <= n; i++) print rows[i]
}
