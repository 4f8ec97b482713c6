#!/usr/bin/env bash
# Downloads the data sets of the Adai paper, checks them and unpacks them.
#
#   scripts/download-data.sh cifar10|cifar100|ptb|all [DIR]
#
# DIR defaults to data/ at the repository root. Results:
#   DIR/cifar-10-batches-bin/  data_batch_1..5.bin, test_batch.bin, batches.meta.txt
#   DIR/cifar-100-binary/      train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt
#   DIR/ptb/                   ptb.train.txt, ptb.valid.txt, ptb.test.txt
# A data set already in place is left alone (the script is idempotent). The CIFAR archives are
# checked against their published md5, the PTB text files against theirs.
# ADAI_DATA_MIRROR=URL fetches every archive from URL/<archive name> instead of the official hosts.
set -euo pipefail

usage() {
    echo "usage: scripts/download-data.sh cifar10|cifar100|ptb|all [DIR]   (DIR defaults to data/ at the repository root)" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
case "$1" in cifar10|cifar100|ptb|all) ;; *) echo "error: unknown data set '$1'" >&2; usage ;; esac
WHICH="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${2:-$ROOT/data}"
mkdir -p "$DIR" || { echo "error: cannot create directory $DIR" >&2; exit 1; }
DIR="$(cd "$DIR" && pwd)"

md5_of() {
    if command -v md5sum >/dev/null 2>&1; then md5sum "$1" | cut -d' ' -f1; else md5 -q "$1"; fi
}

size_of() { wc -c <"$1" | tr -d ' '; }

# fetch URL ARCHIVE: downloads into DIR/.downloads/ARCHIVE unless it is already there.
fetch() {
    local url="$1" archive="$2"
    if [ -n "${ADAI_DATA_MIRROR:-}" ]; then url="${ADAI_DATA_MIRROR%/}/$archive"; fi
    mkdir -p "$DIR/.downloads"
    local target="$DIR/.downloads/$archive"
    if [ -f "$target" ]; then echo "using $target downloaded before"; return 0; fi
    echo "downloading $url"
    local status=0
    curl -fL --retry 2 --connect-timeout 20 -sS -o "$target.part" "$url" || status=$?
    if [ "$status" -ne 0 ]; then
        rm -f "$target.part"
        echo "error: could not download $url (curl exit status $status). Are you offline? Check the network" \
             "connection, or download the file by hand, put it at $target and run this script again." >&2
        exit 1
    fi
    mv "$target.part" "$target"
}

# check_md5 FILE EXPECTED: removes FILE and fails when its md5 differs.
check_md5() {
    local actual
    actual="$(md5_of "$1")"
    if [ "$actual" != "$2" ]; then
        rm -f "$1"
        echo "error: md5 mismatch for $1: expected $2, got $actual. The download is corrupt or not the official" \
             "file; it was removed, run this script again." >&2
        exit 1
    fi
}

# all_sizes FOLDER NAME:SIZE...: true when every file exists with its size.
all_sizes() {
    local folder="$1"; shift
    local entry
    for entry in "$@"; do
        [ -f "$folder/${entry%%:*}" ] && [ "$(size_of "$folder/${entry%%:*}")" = "${entry##*:}" ] || return 1
    done
}

# unpack ARCHIVE FOLDER: extracts the archive and moves FOLDER from it into DIR in one rename.
unpack() {
    local archive="$1" folder="$2" scratch
    scratch="$(mktemp -d "$DIR/.unpack.XXXXXX")"
    tar -xzf "$archive" -C "$scratch" || { rm -rf "$scratch"; echo "error: cannot unpack $archive" >&2; exit 1; }
    rm -rf "${DIR:?}/$(basename "$folder")"
    mv "$scratch/$folder" "$DIR/$(basename "$folder")"
    rm -rf "$scratch"
}

cifar10() {
    local folder="$DIR/cifar-10-batches-bin"
    local files=(data_batch_1.bin:30730000 data_batch_2.bin:30730000 data_batch_3.bin:30730000
                 data_batch_4.bin:30730000 data_batch_5.bin:30730000 test_batch.bin:30730000)
    if all_sizes "$folder" "${files[@]}"; then echo "CIFAR-10 already present in $folder"; return 0; fi
    fetch https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz cifar-10-binary.tar.gz
    check_md5 "$DIR/.downloads/cifar-10-binary.tar.gz" c32a1d4ab5d03f1284b67883e8d87530
    unpack "$DIR/.downloads/cifar-10-binary.tar.gz" cifar-10-batches-bin
    all_sizes "$folder" "${files[@]}" || { echo "error: $folder is incomplete after unpacking" >&2; exit 1; }
    rm -f "$DIR/.downloads/cifar-10-binary.tar.gz"
    echo "CIFAR-10 ready in $folder"
}

cifar100() {
    local folder="$DIR/cifar-100-binary"
    local files=(train.bin:153700000 test.bin:30740000)
    if all_sizes "$folder" "${files[@]}"; then echo "CIFAR-100 already present in $folder"; return 0; fi
    fetch https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz cifar-100-binary.tar.gz
    check_md5 "$DIR/.downloads/cifar-100-binary.tar.gz" 03b5dce01913d631647c71ecec9e9cb8
    unpack "$DIR/.downloads/cifar-100-binary.tar.gz" cifar-100-binary
    all_sizes "$folder" "${files[@]}" || { echo "error: $folder is incomplete after unpacking" >&2; exit 1; }
    rm -f "$DIR/.downloads/cifar-100-binary.tar.gz"
    echo "CIFAR-100 ready in $folder"
}

ptb_ok() {
    local folder="$1"
    [ -f "$folder/ptb.train.txt" ] && [ -f "$folder/ptb.valid.txt" ] && [ -f "$folder/ptb.test.txt" ] &&
        [ "$(md5_of "$folder/ptb.train.txt")" = f26c4b92c5fdc7b3f8c7cdcb991d8420 ] &&
        [ "$(md5_of "$folder/ptb.valid.txt")" = aa0affc06ff7c36e977d7cd49e3839bf ] &&
        [ "$(md5_of "$folder/ptb.test.txt")" = 8b80168b89c18661a38ef683c0dc3721 ]
}

ptb() {
    local folder="$DIR/ptb"
    if ptb_ok "$folder"; then echo "PTB already present in $folder"; return 0; fi
    fetch http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz simple-examples.tgz
    local archive="$DIR/.downloads/simple-examples.tgz" scratch
    scratch="$(mktemp -d "$DIR/.unpack.XXXXXX")"
    if ! tar -xzf "$archive" -C "$scratch" ./simple-examples/data/ptb.train.txt ./simple-examples/data/ptb.valid.txt \
            ./simple-examples/data/ptb.test.txt 2>/dev/null &&
       ! tar -xzf "$archive" -C "$scratch" simple-examples/data/ptb.train.txt simple-examples/data/ptb.valid.txt \
            simple-examples/data/ptb.test.txt; then
        rm -rf "$scratch" "$archive"
        echo "error: $archive does not hold simple-examples/data/ptb.{train,valid,test}.txt; it was removed," \
             "run this script again." >&2
        exit 1
    fi
    if ! ptb_ok "$scratch/simple-examples/data"; then
        rm -rf "$scratch" "$archive"
        echo "error: md5 mismatch for the PTB files in $archive (expected train f26c4b92c5fdc7b3f8c7cdcb991d8420," \
             "valid aa0affc06ff7c36e977d7cd49e3839bf, test 8b80168b89c18661a38ef683c0dc3721); it was removed," \
             "run this script again." >&2
        exit 1
    fi
    rm -rf "$folder"
    mv "$scratch/simple-examples/data" "$folder"
    rm -rf "$scratch" "$archive"
    echo "PTB ready in $folder"
}

case "$WHICH" in
    cifar10) cifar10 ;;
    cifar100) cifar100 ;;
    ptb) ptb ;;
    all) cifar10; cifar100; ptb ;;
esac
rmdir "$DIR/.downloads" 2>/dev/null || true
