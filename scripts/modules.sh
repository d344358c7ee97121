#!/usr/bin/env bash
# Checks and tidies the repository's Go modules: the root module and the
# nested ones (adapters, codecs, examples, bench), which the committed
# go.work builds together from this checkout. RELEASING.md explains why.
#
#   scripts/modules.sh guard             the go.mod files are publishable and
#                                        go.work matches them (see below)
#   scripts/modules.sh tidy-check [dir]  each module (or dir) is tidy: what
#                                        `go mod tidy -diff` checks, for nested
#                                        modules too (see below); fails with a diff
#   scripts/modules.sh tidy [dir]        make them tidy: use it instead of
#                                        `go mod tidy` in a nested module
#   scripts/modules.sh list              the module directories
#
# guard fails when
#   - a go.mod replaces a github.com/sealedcookie module: a replace works in
#     this checkout but is ignored once the module is a dependency, so users
#     would get something else than what was tested;
#   - a go.mod requires a github.com/sealedcookie module at a version that
#     no tag can give (v0.0.0, a pseudo-version);
#   - go.work's use list is not exactly the set of modules in the tree, or a
#     module directory does not resolve to this go.work (it would be built
#     alone, against a downloaded root, or not at all);
#   - go.work's versioned replaces are not exactly the sealedcookie versions
#     the go.mod files require, each mapped to its directory.
#
# Why tidy needs help: `go mod tidy` ignores go.work, so in a nested module
# it looks for github.com/sealedcookie/sealed v1.0.0 on the module proxy,
# which does not have it before the release. tidy-check therefore tidies a
# copy of each go.mod (go mod tidy -modfile, with GOWORK=off) to which it has
# added a replace of every other module of this repository by its directory,
# removes those replaces again and compares: go.mod must be identical, and
# go.sum identical except for the lines of github.com/sealedcookie modules,
# which a local replace never needs (a nested go.sum has none before the
# release, and those of the release after it; see RELEASING.md). The
# checkout's files are never written except by `tidy`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOWORK=$root/go.work # whatever the caller's environment says
own='github.com/sealedcookie/' # the prefix of this repository's modules

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# modules prints the directory of every go.mod in the tree, relative: ".",
# "adapters/gin", ...
modules() {
	find . -name go.mod -not -path '*/node_modules/*' -not -path '*/testdata/*' -not -path './.git/*' |
		sed 's|^\./||; s|/\{0,1\}go\.mod$||; s|^$|.|' | LC_ALL=C sort
}

# directives prints the "require" or "replace" lines of a go.mod or go.work
# (canonical form, from go mod edit -print / go work edit -print) as
# "path version" (require) or "path version => target" (replace; version
# "-" for a replace of all versions), one per line, comments dropped.
directives() {
	local verb=$1
	awk -v verb="$verb" '
		{ sub(/[ \t]*\/\/.*/, "") }
		$0 ~ "^" verb " \\(" { block = 1; next }
		block && /^\)/ { block = 0; next }
		block && NF { print_line($0); next }
		$1 == verb { sub("^" verb "[ \t]+", ""); print_line($0) }
		function print_line(s,   n, f) {
			gsub(/^[ \t]+|[ \t]+$/, "", s)
			if (verb == "require") { split(s, f, /[ \t]+/); print f[1], f[2]; return }
			n = split(s, f, /[ \t]+/)
			if (f[2] == "=>") print f[1], "-", "=>", f[3]
			else print f[1], f[2], "=>", f[4]
		}'
}

modpath() { go mod edit -print "$1/go.mod" | awk '$1 == "module" { print $2; exit }'; }

guard() {
	local bad=0 m path ver arrow target
	local mods ws required wanted have
	mods=$(modules)

	# 1. No go.mod replaces one of this repository's modules.
	for m in $mods; do
		while read -r path ver arrow target; do
			case $path in "$own"*)
				[ "$ver" = - ] && ver=""
				echo "$m/go.mod: replace $path${ver:+ $ver} => $target: a published go.mod must not replace a $own module (users never see a replace: they would build against something else than the tests did)"
				bad=1
			esac
		done < <(go mod edit -print "$m/go.mod" | directives replace)
	done

	# 2. Requirements of this repository's modules are versions a tag gives.
	required=$tmp/required # "path version" required by some module
	: >"$required"
	for m in $mods; do
		while read -r path ver; do
			case $path in "$own"*) ;; *) continue ;; esac
			echo "$path $ver" >>"$required"
			if ! [[ $ver =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.]+)?$ ]] || [ "$ver" = v0.0.0 ]; then
				local rel=${path#github.com/sealedcookie/sealed}
				rel=${rel#/}
				echo "$m/go.mod: require $path $ver: want a version that a tag of this repository gives (vX.Y.Z, from the tag ${rel:+$rel/}vX.Y.Z), not v0.0.0 or a pseudo-version"
				bad=1
			fi
		done < <(go mod edit -print "$m/go.mod" | directives require)
	done

	# 3. go.work uses exactly the modules of the tree, and each module's
	# directory resolves to it.
	ws=$(go work edit -print | awk '/^use \(/ { b = 1; next } b && /^\)/ { b = 0; next } b && NF { print $1; next } $1 == "use" { print $2 }' |
		sed 's|^\./||; s|/$||; s|^$|.|; s|^\.$|.|' | LC_ALL=C sort)
	if [ "$ws" != "$mods" ]; then
		echo "go.work: its use list is not the set of modules in the tree (go work use -r . fixes it):"
		diff <(echo "$mods") <(echo "$ws") | sed -n 's/^</  missing from go.work:/p; s/^>/  in go.work, no such module:/p'
		bad=1
	fi
	for m in $mods; do
		if [ "$(cd "$m" && go env GOWORK)" != "$root/go.work" ]; then
			echo "$m: go env GOWORK is '$(cd "$m" && go env GOWORK)', not $root/go.work: the module would not build from this checkout"
			bad=1
		fi
	done

	# 4. go.work maps each required version of our modules to its directory,
	# and maps nothing else.
	wanted=$tmp/wanted have=$tmp/have
	LC_ALL=C sort -u "$required" | while read -r path ver; do
		for m in $mods; do
			if [ "$(modpath "$m")" = "$path" ]; then
				echo "$path $ver => $(cd "$m" && pwd)"
				continue 2
			fi
		done
		echo "$path $ver => (no module of this repository)"
	done >"$wanted"
	go work edit -print | directives replace | while read -r path ver arrow target; do
		[ "$ver" = - ] && ver=""
		case $target in
		./* | ../* | .) target=$(cd "$target" 2>/dev/null && pwd || echo "$target (missing)") ;;
		esac
		echo "$path${ver:+ $ver} => $target"
	done | LC_ALL=C sort >"$have"
	if ! cmp -s "$wanted" "$have"; then
		echo "go.work: its replaces must map exactly the versions of $own* modules that the go.mod files require to their directories:"
		diff "$wanted" "$have" | sed -n 's/^</  missing: replace/p; s/^>/  unexpected: replace/p'
		echo "  (go work edit -replace=PATH@VERSION=./DIR adds one, -dropreplace=PATH@VERSION removes one)"
		bad=1
	fi

	if [ $bad = 0 ]; then
		echo "modules: $(echo "$mods" | wc -l) modules in go.work; no replace of a $own module in any go.mod; requirements: $(LC_ALL=C sort -u "$required" | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
	fi
	return $bad
}

# tidy_one tidies a copy of module $1's go.mod and go.sum against this
# checkout (see the top of the file) into $tmp/<name>/go.mod and go.sum.
tidy_one() {
	local m=$1 w self p d
	w=$tmp/$(echo "$m" | tr / _)
	mkdir -p "$w"
	cp "$m/go.mod" "$w/go.mod"
	if [ -f "$m/go.sum" ]; then
		grep -v "^$own" "$m/go.sum" >"$w/go.sum" || true
	else
		: >"$w/go.sum"
	fi
	self=$(modpath "$m")
	local args=() drop=()
	while read -r p d; do
		[ "$p" = "$self" ] && continue
		args+=("-replace=$p=$d")
		drop+=("-dropreplace=$p")
	done < <(go list -m -f '{{.Path}} {{.Dir}}')
	if [ ${#args[@]} -gt 0 ]; then go mod edit "${args[@]}" "$w/go.mod"; fi
	(cd "$m" && GOWORK=off GOFLAGS= go mod tidy -modfile="$w/go.mod") || return 1
	if [ ${#drop[@]} -gt 0 ]; then go mod edit "${drop[@]}" "$w/go.mod"; fi
	[ -s "$w/go.sum" ] || [ -f "$m/go.sum" ] || rm -f "$w/go.sum"
	echo "$w"
}

tidy_check() {
	local bad=0 m w
	for m in "$@"; do
		if ! w=$(tidy_one "$m"); then
			echo "$m: go mod tidy failed"
			bad=1
			continue
		fi
		local ok=1
		if ! diff -u --label "$m/go.mod" --label "$m/go.mod (tidy)" "$m/go.mod" "$w/go.mod"; then ok=0; fi
		if ! diff -u --label "$m/go.sum (without $own*)" --label "$m/go.sum (tidy)" \
			<(grep -sv "^$own" "$m/go.sum" || true) <(cat "$w/go.sum" 2>/dev/null || true); then
			ok=0
		fi
		if [ $ok = 1 ]; then
			echo "tidy: $m"
		else
			echo "$m is not tidy (scripts/modules.sh tidy $m fixes it)"
			bad=1
		fi
	done
	return $bad
}

tidy_write() {
	local m w
	for m in "$@"; do
		w=$(tidy_one "$m")
		cp "$w/go.mod" "$m/go.mod"
		# Keep the go.sum lines of our own modules (after a release, those
		# of the released versions), merged in go's order: by module path,
		# the lines of one path in the order they were.
		if [ -f "$w/go.sum" ] || grep -qs "^$own" "$m/go.sum"; then
			{ cat "$w/go.sum" 2>/dev/null || true; grep -s "^$own" "$m/go.sum" || true; } |
				LC_ALL=C sort -s -t' ' -k1,1 >"$w/go.sum.merged"
			cp "$w/go.sum.merged" "$m/go.sum"
		fi
		echo "tidied: $m"
	done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then set -- $(modules); fi
for m in "$@"; do
	m=${m%/}
	[ -f "$m/go.mod" ] || { echo "$m: no go.mod" >&2; exit 2; }
done
case $cmd in
guard) guard ;;
tidy-check) tidy_check "${@%/}" ;;
tidy) tidy_write "${@%/}" ;;
list) modules ;;
*)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
