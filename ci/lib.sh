# Shared helpers for the ci/ scripts. Sourced, not run.
# Progress and logs go to standard error; standard output carries only values that another
# script reads.

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# host_debian_mirror [CODENAME]: the URI of the Debian mirror this host's apt uses for CODENAME
# (default bookworm), from /etc/apt/sources.list and sources.list.d's one-line *.list and deb822
# *.sources files (the runner's own zfs-rs-* files left out); the same rule as the runner's
# (cargo-zfs-test/src/apt_mirror.rs). No mirror is built in: dies, naming the files to fix.
host_debian_mirror() {
    local codename=${1:-bookworm} dir=${APT_SOURCES_DIR:-/etc/apt} f uri=""
    local files=("$dir/sources.list")
    for f in "$dir"/sources.list.d/*.list "$dir"/sources.list.d/*.sources; do
        case $(basename "$f") in zfs-rs-*) continue ;; esac
        files+=("$f")
    done
    # apt's order: sources.list, then the parts by name.
    mapfile -t files < <(printf '%s\n' "${files[0]}"; printf '%s\n' "${files[@]:1}" | sort)
    for f in "${files[@]}"; do
        [ -r "$f" ] || continue
        case $f in
            *.sources) uri=$(awk -v want="$codename" '
                function flush() {
                    if (!found && types ~ /(^| )deb( |$)/ && tolower(enabled) != "no")
                        for (i = 1; i <= ns; i++) if (s[i] == want) { split(uris, u, " "); print u[1]; found = 1; exit }
                    types = ""; enabled = ""; uris = ""; ns = 0; last = ""
                }
                /^[ \t]*$/ { flush(); next }
                /^#/ { next }
                /^[ \t]/ { if (last == "uris") uris = uris " " $1; if (last == "suites") ns = split(suites_line = suites_line " " $0, s, " "); next }
                {
                    name = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1)
                    gsub(/^[ \t]+|[ \t]+$/, "", value); last = name
                    if (name == "types") types = value
                    else if (name == "enabled") enabled = value
                    else if (name == "uris") uris = value
                    else if (name == "suites") { suites_line = value; ns = split(value, s, " ") }
                }
                END { flush() }' "$f") ;;
            *) uri=$(awk -v want="$codename" '
                { sub(/#.*/, "") }
                $1 == "deb" {
                    i = 2
                    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == want) { print $i; exit }
                }' "$f") ;;
        esac
        [ -n "$uri" ] && { echo "${uri%/}"; return 0; }
    done
    die "apt has no source for Debian $codename in $dir/sources.list or $dir/sources.list.d/*.{sources,list}: add your Debian mirror there (e.g. the line \`deb MIRROR $codename main\` in $dir/sources.list), run apt-get update, and try again"
}
