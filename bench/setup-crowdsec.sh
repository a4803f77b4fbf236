#!/bin/sh
# Installs the L7 bench's peers offline (Debian 12, as root): GoAccess, and CrowdSec 1.4.6 with the
# stock nginx parsers and HTTP scenarios of its offline hub, and nothing that reaches the internet.
# Idempotent: run it again and it changes nothing that is already right.
#
#   sudo sh bench/setup-crowdsec.sh
#
# What CrowdSec's Debian package does and how this script keeps it offline:
# - its postinst registers with the Central API (a network call) when
#   /etc/crowdsec/online_api_credentials.yaml is empty: a non-empty one (a comment) written before
#   `dpkg --configure crowdsec` skips that (README.Debian, "Local API and Central API");
# - cscli asks GitHub for the latest release to choose the hub branch when `cscli.hub_branch` is
#   unset: config.yaml.local sets it (the package's config.yaml is a conffile, so the override goes
#   in the .local file it merges), with the WAL setting the postinst would otherwise write there;
# - the hub content comes from the package: /usr/share/crowdsec/hub (the "offline hub"), linked from
#   /var/lib/crowdsec/hub, and on first install the postinst enables the collections linux, apache2
#   and nginx with what they need (nginx-logs, http-logs, dateparse-enrich, whitelists,
#   base-http-scenarios, http-cve) as symlinks under /etc/crowdsec/{collections,parsers,scenarios};
#   this script checks those links are there and re-creates them from the offline hub if not;
# - no systemd runs here (PID 1 is not systemd, /run/systemd/system is absent), so the postinst
#   starts no daemon; if one was started anyway, it is stopped through systemctl.
# The bench itself runs crowdsec with its own config (bench/l7.bench.ts): replay of a file, its own
# SQLite database and a Local API on 127.0.0.1 only, no online_client, no prometheus listener.
set -eu

if [ "$(id -u)" != 0 ]; then
  echo "setup-crowdsec: run as root (it installs Debian packages and writes /etc/crowdsec)" >&2
  exit 1
fi

ETC=/etc/crowdsec
CAPI=$ETC/online_api_credentials.yaml
LOCAL=$ETC/config.yaml.local
HUB_BRANCH=v1.4.6

mkdir -p "$ETC"
if [ ! -s "$CAPI" ]; then
  echo "# offline: no Central API registration (written by palisade bench/setup-crowdsec.sh)" > "$CAPI"
  echo "setup-crowdsec: wrote $CAPI (non-empty: the postinst skips 'cscli capi register')"
fi

if [ ! -f "$LOCAL" ]; then
  cat > "$LOCAL" <<EOF
# Written by palisade bench/setup-crowdsec.sh: no GitHub look-up for the hub branch (offline hub).
cscli:
  hub_branch: $HUB_BRANCH
# Optimization for sqlite, as the Debian postinst would set it (see README.Debian):
db_config:
  use_wal: true
EOF
  echo "setup-crowdsec: wrote $LOCAL (cscli.hub_branch: $HUB_BRANCH)"
elif ! grep -q 'hub_branch' "$LOCAL"; then
  if grep -q '^cscli:' "$LOCAL"; then
    echo "setup-crowdsec: $LOCAL has a 'cscli:' section without hub_branch: add '  hub_branch: $HUB_BRANCH' under it" >&2
    exit 1
  fi
  printf '# Added by palisade bench/setup-crowdsec.sh: no GitHub look-up for the hub branch.\ncscli:\n  hub_branch: %s\n' "$HUB_BRANCH" >> "$LOCAL"
  echo "setup-crowdsec: added cscli.hub_branch to $LOCAL"
fi

need=""
command -v goaccess > /dev/null 2>&1 || need="$need goaccess"
command -v crowdsec > /dev/null 2>&1 || need="$need crowdsec"
if [ -n "$need" ]; then
  echo "setup-crowdsec: installing$need"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi
# A package left unpacked but not configured (an earlier install stopped half-way):
if dpkg-query -W -f='${Status}' crowdsec 2> /dev/null | grep -q 'unpacked\|half-configured'; then
  DEBIAN_FRONTEND=noninteractive dpkg --configure crowdsec
fi

# The stock nginx parsers and HTTP scenarios, enabled from the offline hub (what the postinst does
# on a first install; done here too when an earlier install or an admin removed the links).
OFFLINE=/usr/share/crowdsec/hub
LIVE=/var/lib/crowdsec/hub
if [ ! -e "$LIVE/.index.json" ]; then
  /var/lib/dpkg/info/crowdsec.postinst disable-online-hub
fi
ITEMS="
collections/crowdsecurity/nginx.yaml
collections/crowdsecurity/base-http-scenarios.yaml
collections/crowdsecurity/http-cve.yaml
parsers/s01-parse/crowdsecurity/nginx-logs.yaml
parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml
parsers/s02-enrich/crowdsecurity/http-logs.yaml
parsers/s02-enrich/crowdsecurity/whitelists.yaml
"
for item in $ITEMS; do
  target=$LIVE/$item
  [ -e "$OFFLINE/$item" ] || { echo "setup-crowdsec: the package has no $OFFLINE/$item" >&2; exit 1; }
  # cscli wants <kind>/<stage>/<file> or <kind>/<file>: the vendor folder is left out.
  link=$ETC/$(dirname "$(dirname "$item")")/$(basename "$item")
  if [ ! -e "$link" ]; then
    mkdir -p "$(dirname "$link")"
    ln -sf "$target" "$link"
    echo "setup-crowdsec: enabled $item"
  fi
done
# Every scenario the two HTTP collections list (base-http-scenarios, http-cve), from the offline hub.
for coll in base-http-scenarios http-cve; do
  sed -n '/^scenarios:/,/^[a-z]/p' "$OFFLINE/collections/crowdsecurity/$coll.yaml" | sed -n 's/^ *- *//p' | while read -r s; do
    vendor=${s%%/*}
    name=${s#*/}
    link=$ETC/scenarios/$name.yaml
    if [ ! -e "$link" ] && [ -e "$OFFLINE/scenarios/$vendor/$name.yaml" ]; then
      mkdir -p "$ETC/scenarios"
      ln -sf "$LIVE/scenarios/$vendor/$name.yaml" "$link"
      echo "setup-crowdsec: enabled scenarios/$vendor/$name.yaml"
    fi
  done
done
mkdir -p /var/lib/crowdsec/data
for f in /usr/share/crowdsec/data/*; do
  [ -e "/var/lib/crowdsec/data/$(basename "$f")" ] || cp "$f" /var/lib/crowdsec/data/
done
# Packaging slip in 1.4.6-6~deb12u1: the scenario http-path-traversal-probing reads
# File('http_path_traversal.txt') but the package ships that list as path_traversal.txt. Without
# the file the scenario can never fire, and crowdsec logs its whole data library as an error for
# every HTTP line it evaluates, which slows it down. The list is given the name the scenario asks.
if [ ! -e /var/lib/crowdsec/data/http_path_traversal.txt ] && [ -e /usr/share/crowdsec/data/path_traversal.txt ] &&
  grep -qs "http_path_traversal.txt" "$OFFLINE/scenarios/crowdsecurity/http-path-traversal-probing.yaml"; then
  cp /usr/share/crowdsec/data/path_traversal.txt /var/lib/crowdsec/data/http_path_traversal.txt
  echo "setup-crowdsec: data file http_path_traversal.txt (shipped as path_traversal.txt) put where http-path-traversal-probing looks"
fi

# No daemon left running: the bench starts its own crowdsec and stops it.
if [ -d /run/systemd/system ] && systemctl is-active --quiet crowdsec.service 2> /dev/null; then
  systemctl stop crowdsec.service
  systemctl disable crowdsec.service > /dev/null 2>&1 || true
  echo "setup-crowdsec: stopped and disabled crowdsec.service (the bench runs its own)"
fi

echo "setup-crowdsec: ready: $(goaccess --version 2> /dev/null | head -1), crowdsec $(crowdsec -version 2>&1 | sed -n "s/.*version: *//p" | head -1)"
echo "setup-crowdsec: HTTP scenarios enabled: $(ls "$ETC/scenarios" | grep -c '^http-\|cve\|CVE') of $(ls "$ETC/scenarios" | wc -l) scenario links"
