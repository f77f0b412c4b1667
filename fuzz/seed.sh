#!/bin/sh
# Seeds each target's corpus (fuzz/corpus/<target>/) from tests/fixtures.
set -eu
cd "$(dirname "$0")"
for d in hostway openstack gogrid foreman; do
    for t in edge upstream; do
        mkdir -p "corpus/${t}_$d"
        find "../tests/fixtures/$d" -type f -exec cp {} "corpus/${t}_$d/" \;
    done
done
mkdir -p corpus/foreman_search corpus/keystone_body corpus/config_file
printf 'name = centos and os = 1' > corpus/foreman_search/and
find ../tests/fixtures -name '*keystone*' -type f -exec cp {} corpus/keystone_body/ \; 2>/dev/null || true
cp ../config/dragoman.example.toml corpus/config_file/
