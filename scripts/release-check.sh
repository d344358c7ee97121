#!/usr/bin/env bash
# Builds every module of this repository the way a user gets it: from its
# tag, with GOWORK=off and an empty module cache. RELEASING.md says when to
# run which form.
#
#   scripts/release-check.sh [--worktree] [--version vX.Y.Z] [--keep] [dir...]
#   scripts/release-check.sh --published vX.Y.Z [--keep] [dir...]
#
# The first form is the release rehearsal, offline as far as this
# repository goes: nothing is pushed and the module proxy is never asked for
# our modules. It clones this repository, tags included, into a temporary
# directory (at HEAD; with --worktree, at one more commit that holds the
# working tree as it is, uncommitted and untracked files included, ignored
# ones not) and tags it the way a release does: vX.Y.Z for the root module,
# <dir>/vX.Y.Z (adapters/gin/vX.Y.Z, codec/cbor/vX.Y.Z, ...) for each nested
# module. The go command is told to fetch github.com/sealedcookie/sealed
# from that clone (a git url.<clone>.insteadOf, with GOPRIVATE so that
# neither the module proxy nor the checksum database is asked about it).
#
# The version: while no tag gives the (highest) root version that the
# go.mod files require, as before the first release, it is that version
# (v1.0.0), and every module is tagged with it at the commit. Once that
# version is tagged, the versions the go.mod files require keep their real
# tags, so each nested module is built against the root it requires, not
# against this commit's (the workspace cannot show that skew), and the
# modules of the commit get a throwaway next version (v1.0.1-rehearsal).
# --version sets the version of the new tags.
#
# The second form, --published, checks a release after its tags are pushed:
# the same builds, from the public module proxy (proxy.golang.org) and
# checksum database, with no clone and no redirection.
#
# For each module (or each dir given):
#   1. (rehearsal) in the module's directory of the clone: go vet ./...,
#      which builds the module and its tests, against the tagged versions
#      of its requirements as the go command fetches them;
#   2. in a new consumer module: go get <module>@vX.Y.Z, then go build of a
#      program that imports each of the module's importable packages;
#   3. go install <package>@vX.Y.Z of each of its commands (cmd/sealed,
#      examples/lambda, ...), then go install <package>@latest, as the
#      README tells users to, checking that the binary comes from this
#      module (go version -m): a command that moved into a nested module
#      (cmd/sealed, since it requires redisstore) must not resolve to, or
#      be ambiguous with, an older version of the module that held it.
#
# In the rehearsal, third-party modules come from GOPROXY as usual, with the
# local module cache's download directory listed first as a file:// proxy,
# so a warm machine needs no network for them (the checksum database still
# verifies them). --keep keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
mode=head version="" keep=0 only=()
while [ $# -gt 0 ]; do
	case $1 in
	--worktree) mode=worktree ;;
	--published) mode=published; version=${2:-}; [ -n "$version" ] || usage; shift ;;
	--version) version=${2:-}; [ -n "$version" ] || usage; shift ;;
	--keep) keep=1 ;;
	-*) usage ;;
	*) only+=("${1%/}") ;;
	esac
	shift
done

repo=https://github.com/sealedcookie/sealed
modroot=github.com/sealedcookie/sealed
tmp=$(mktemp -d "${TMPDIR:-/tmp}/release-check.XXXXXX")
cleanup() {
	if [ $keep = 1 ]; then echo "kept $tmp"; return; fi
	# The module cache is read-only; go clean -modcache removes it.
	[ -d "$tmp/modcache" ] && GOMODCACHE=$tmp/modcache GOWORK=off GOFLAGS= go clean -modcache 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
start=$SECONDS
step() { printf -- '-- %s\n' "$*"; }
# quiet runs a command without the go command's progress lines.
# (pipefail: the pipeline fails when the command does.)
quiet() { "$@" 2>&1 | { grep -Ev $'^go: (downloading|added|finding|extracting|creating new go.mod|to add module requirements)|^\tgo mod tidy$' || true; }; }

# src is the tree whose modules are checked: the clone, or (--published)
# this checkout, which should be at the release's commit.
if [ $mode = published ]; then
	src=$root
	what="the published $version (module proxy: proxy.golang.org)"
else
	# The clone: this repository, its history and tags included.
	src=$tmp/sealed
	git clone -q --no-checkout "$root" "$src"
	git -C "$src" -c advice.detachedHead=false checkout -q "$(git -C "$root" rev-parse HEAD)"
	what="HEAD $(git -C "$root" rev-parse --short HEAD)"
	if [ $mode = worktree ]; then
		git -C "$src" ls-files -z | (cd "$src" && xargs -0 rm -f)
		(cd "$root" && git ls-files -z -co --exclude-standard) | while IFS= read -r -d '' f; do
			[ -e "$root/$f" ] || [ -L "$root/$f" ] || continue # in the index, deleted in the tree
			mkdir -p "$src/$(dirname "$f")"
			cp -P -p "$root/$f" "$src/$f"
		done
		git -C "$src" add -A
		git -C "$src" -c user.name=release-check -c user.email=release-check@localhost \
			commit -q --allow-empty -m "release-check: the working tree of $root"
		what="the working tree"
	fi
fi

# The modules: their directories, the root first, as the checked tree's own
# scripts/modules.sh lists them (one definition of what a module is).
mods=$("$src/scripts/modules.sh" list)
modpath() { (cd "$src" && go mod edit -print "$1/go.mod" | awk '$1 == "module" { print $2; exit }'); }
# tagname PATH VERSION: the tag that gives module PATH its VERSION.
tagname() {
	local rel=${1#"$modroot"}
	rel=${rel#/}
	echo "${rel:+$rel/}$2"
}
checked=$mods
if [ ${#only[@]} -gt 0 ]; then
	for m in "${only[@]}"; do
		echo "$mods" | grep -qxF "$m" || { echo "$m: not a module directory (have: $(echo $mods))" >&2; exit 2; }
	done
	checked=$(printf '%s\n' "${only[@]}")
fi

if [ $mode != published ]; then
	tagged() { git -C "$src" rev-parse -q --verify "refs/tags/$1^{commit}" >/dev/null; }
	# What the go.mod files require of this repository's modules.
	for m in $mods; do (cd "$src" && go mod edit -print "$m/go.mod"); done |
		awk -v p="$modroot" '($1 == p || index($1, p "/") == 1) && $2 ~ /^v/ { print $1, $2 }
			$1 == "require" && ($2 == p || index($2, p "/") == 1) { print $2, $3 }' |
		LC_ALL=C sort -u >"$tmp/required"
	if [ -z "$version" ]; then
		rootver=$(awk -v p="$modroot" '$1 == p { print $2 }' "$tmp/required" | sort -V | tail -n 1)
		[ -n "$rootver" ] || { echo "no go.mod requires $modroot: pass --version" >&2; exit 2; }
		if ! tagged "$rootver"; then
			version=$rootver
		else
			core=${rootver%%-*}
			version="${core%.*}.$((${core##*.} + 1))-rehearsal"
		fi
	fi
	# Tag every module at the commit, then check that each required
	# version has a tag: a new one or a real one.
	tags="" existing=""
	for m in $mods; do
		t=$(tagname "$(modpath "$m")" "$version")
		if tagged "$t"; then
			echo "tag $t exists already: pass --version with a version not yet tagged" >&2
			exit 2
		fi
		git -C "$src" tag "$t"
		tags+="$t "
	done
	while read -r path ver; do
		t=$(tagname "$path" "$ver")
		case " $tags " in *" $t "*) continue ;; esac
		if ! tagged "$t"; then
			echo "a go.mod requires $path $ver, but there is no tag $t, and $ver is not the version rehearsed ($version)" >&2
			exit 1
		fi
		existing+="$t "
	done <"$tmp/required"
	step "rehearsing $version of $what: new tags $tags${existing:+; existing tags $existing}"
else
	step "checking $what"
fi

# The packages of every module, listed in the workspace before the user's
# environment is set up (so that listing them fills no module cache of
# the check): "module name importpath", non-internal packages only.
(cd "$src" && GOWORK=$src/go.work GOFLAGS=-mod=readonly go list -e \
	-f '{{if and .GoFiles .Module}}{{.Module.Path}} {{.Name}} {{.ImportPath}}{{end}}' "$modroot/...") |
	awk '$3 !~ /(^|\/)internal(\/|$)/' >"$tmp/packages"
# packages MOD KIND: the packages of module directory MOD that a user can
# import (KIND=lib) or install (KIND=cmd).
packages() {
	awk -v mod="$(modpath "$1")" -v kind="$2" '$1 == mod && (kind == "cmd") == ($2 == "main") { print $3 }' "$tmp/packages"
}

# The user's environment: no workspace, an empty module cache.
userproxy=$(GOWORK=off go env GOPROXY)
usercache=$(GOWORK=off go env GOMODCACHE)/cache/download
export GOWORK=off GOTOOLCHAIN=local GOMODCACHE=$tmp/modcache GOBIN=$tmp/bin GOFLAGS="-mod=mod -trimpath"
if [ $mode = published ]; then
	export GOPROXY=https://proxy.golang.org GOSUMDB=sum.golang.org GOPRIVATE= GONOPROXY= GONOSUMDB= GOINSECURE=
else
	# Our modules from the clone's tags, everything else as usual.
	proxy=$userproxy
	[ -d "$usercache" ] && proxy="file://$usercache,$proxy"
	export GOPROXY=$proxy GOPRIVATE=github.com/sealedcookie GONOSUMDB= GONOPROXY= \
		GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=url.$src.insteadOf GIT_CONFIG_VALUE_0=$repo \
		GIT_ALLOW_PROTOCOL=file:https GIT_TERMINAL_PROMPT=0
fi
mkdir -p "$tmp/modcache" "$tmp/bin"

failed=""
for m in $checked; do
	path=$(modpath "$m")
	step "$path@$version"
	ok=1
	# 1. The module against the tagged versions of its requirements.
	if [ $mode != published ] && [ "$m" != . ]; then
		echo "   go vet ./... in $m (GOWORK=off)"
		(cd "$src/$m" && quiet go vet ./...) || ok=0
	fi
	# 2. A consumer that go gets the module and builds its packages.
	libs=$(packages "$m" lib)
	if [ -n "$libs" ]; then
		c=$tmp/consumer/$(echo "$m" | tr / _)
		mkdir -p "$c"
		{
			echo "package main"
			echo
			for p in $libs; do echo "import _ \"$p\""; done
			echo
			echo "func main() {}"
		} >"$c/main.go"
		echo "   go get $path@$version && go build: $(echo $libs | wc -w) package(s)"
		(cd "$c" && quiet go mod init example.com/consumer && quiet go get "$path@$version" &&
			quiet go mod tidy && GOFLAGS="-mod=readonly -trimpath" quiet go build -o /dev/null .) || ok=0
	fi
	# 3. go install of each command at the tag.
	for p in $(packages "$m" cmd); do
		echo "   go install $p@$version"
		GOFLAGS= quiet go install -trimpath "$p@$version" || ok=0
		# @latest: the highest tag of the module that provides p.
		if GOFLAGS= quiet go install -trimpath "$p@latest"; then
			got=$(go version -m "$GOBIN/${p##*/}" | awk '$1 == "mod" { print $2, $3 }')
			echo "   go install $p@latest: $got"
			[ "${got%% *}" = "$path" ] || { echo "   $p@latest comes from ${got%% *}, not $path"; ok=0; }
		else
			ok=0
		fi
	done
	[ $ok = 1 ] || failed+="  $path@$version"$'\n'
done

echo "-- $(echo $checked | wc -w) modules, $((SECONDS - start))s"
if [ -n "$failed" ]; then
	printf 'failed:\n%s' "$failed"
	exit 1
fi
echo "passed: every module checked builds from its $version tag with a clean module cache and GOWORK=off"
