#!/usr/bin/env bash
# Install the peer tools that bench/compare.sh measures hookperf against:
# iperf3 and sockperf, from Debian's packages, only when they are missing.
# iproute2 (for `ss`, used to wait for servers to listen) is added the same way.
#
# With the argument "test", install instead what `make test` needs: nft
# (hookperf ab --nft loads rulesets with it), iproute2's ip, and chromium
# (the HTML report's test opens reports in it, headless).
#
# neper is not packaged; compare.sh includes it only when NEPER_DIR points at
# a neper build made outside this repository.
set -euo pipefail

declare -A want
if [[ "${1:-}" == test ]]; then
	want=([nft]=nftables [ip]=iproute2 [chromium]=chromium)
elif [[ "${1:-}" == pages ]]; then
	want=([valgrind]=valgrind)
else
	want=([iperf3]=iperf3 [sockperf]=sockperf [ss]=iproute2)
fi

missing=()
for cmd in "${!want[@]}"; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing+=("${want[$cmd]}")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "install-tools: ${!want[*]} already present"
	exit 0
fi

if ((EUID != 0)); then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-tools: not root and no sudo: cannot install ${missing[*]}; the tests that need them skip and say so" >&2
		exit 1
	fi
	sudo=(sudo)
else
	sudo=()
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-tools: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

for cmd in "${!want[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || {
		echo "install-tools: $cmd still missing after install" >&2
		exit 1
	}
done
echo "install-tools: done"
