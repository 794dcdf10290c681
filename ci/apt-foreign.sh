# Sourced by ci/check-versions and ci/openzfs-from-source: the Debian archive (the mirror the
# host's apt uses) and its keyring, and `foreign`, an apt configuration of its own for a suite the
# host must never install from. Expects `log`, `die` and `host_debian_mirror` (ci/lib.sh).

zfs_rs_cache=${XDG_CACHE_HOME:-$HOME/.cache}/zfs-rs
arch=$(dpkg --print-architecture)

# Debian mirror: the one the host's apt uses (as `cargo zfs-test setup` does, for ci/setup).
debian_mirror=$(host_debian_mirror bookworm)
debian_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# Trixie's keys came to bookworm's debian-archive-keyring in 2023.3+deb12u2 (Debian 12.11). On a
# host with an older one, bookworm's current package is fetched through the host's apt (so checked
# by the keys it has) and its keyring used from the cache; the host's stays as it is.
keyring_min=2023.3+deb12u2
keyring_v=$(dpkg-query -W -f='${Version}' debian-archive-keyring 2>/dev/null || echo 0)
if ! dpkg --compare-versions "$keyring_v" ge "$keyring_min"; then
    kr=$zfs_rs_cache/headers/debian-archive-keyring
    if [ ! -f "$kr/.unpacked" ]; then
        log "debian-archive-keyring $keyring_v lacks trixie's keys: fetching bookworm's current one"
        rm -rf "$kr" && mkdir -p "$kr/deb"
        (cd "$kr/deb" && apt-get -q -o "APT::Sandbox::User=$(id -un)" download \
            debian-archive-keyring >/dev/null)
        keyring_v=$(dpkg-deb -f "$kr"/deb/*.deb Version)
        dpkg --compare-versions "$keyring_v" ge "$keyring_min" \
            || die "apt offers debian-archive-keyring $keyring_v only, without trixie's keys"
        dpkg-deb -x "$kr"/deb/*.deb "$kr/root"
        touch "$kr/.unpacked"
    fi
    debian_keyring=$kr/root/usr/share/keyrings/debian-archive-keyring.gpg
fi

# foreign NAME KEYRING URI SUITE COMPONENT [TYPE]: apt-get's options for a configuration of its
# own under the cache that knows only that suite (TYPE deb, the default, or deb-src), in the
# array `apt_opts`; refreshes its index when older than a day.
foreign() {
    local name=$1 keyring=$2 uri=$3 suite=$4 comp=$5 type=${6:-deb}
    local a=$zfs_rs_cache/headers/apt/$name
    [ -r "$keyring" ] || die "no $keyring to check $name's signatures: run ci/setup"
    mkdir -p "$a/sources.list.d" "$a/preferences.d" "$a/state/lists/partial" \
        "$a/cache/archives/partial"
    [ -f "$a/state/status" ] || : >"$a/state/status"
    local line="$type [signed-by=$keyring] $uri $suite $comp"
    [ "$(cat "$a/sources.list" 2>/dev/null)" = "$line" ] || echo "$line" >"$a/sources.list"
    apt_opts=(
        -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/sources.list.d"
        -o "Dir::Etc::Preferences=$a/preferences" -o "Dir::Etc::PreferencesParts=$a/preferences.d"
        -o "Dir::State=$a/state" -o "Dir::State::status=$a/state/status" -o "Dir::Cache=$a/cache"
        -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o Acquire::Languages=none
        -o "APT::Sandbox::User=$(id -un)"
    )
    local stamp=$a/updated
    if [ ! -f "$stamp" ] || [ "$a/sources.list" -nt "$stamp" ] \
        || [ -n "$(find "$stamp" -mmin +1440)" ]; then
        log "apt-get update of $name ($uri $suite $comp)"
        if apt-get -q "${apt_opts[@]}" --error-on=any update >"$a/update.log" 2>&1; then
            touch "$stamp"
        elif [ -f "$stamp" ]; then
            log "warning: could not refresh $name, using its index of $(date -r "$stamp" +%F)"
            sed 's/^/    /' "$a/update.log" >&2
        else
            cat "$a/update.log" >&2
            die "apt-get update of $name failed"
        fi
    fi
}

