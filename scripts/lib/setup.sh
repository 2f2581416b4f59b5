# Shared by scripts/run and scripts/test: make sure the tools the project needs are installed.
# On Debian/Ubuntu as root, missing packages are installed with apt-get; otherwise we say what to install.

die() { echo "$*" >&2; exit 1; }

apt_updated=""
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing: $*. Install it (Debian/Ubuntu: sudo apt-get install -y $*) and run this again."
  fi
  if [ -z "$apt_updated" ]; then
    echo "setup: apt-get update" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    apt_updated=1
  fi
  echo "setup: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 || die "apt-get install $* failed"
}

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

ensure_java() {
  if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1 \
      || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    apt_install openjdk-17-jdk-headless
  fi
  local major; major=$(java_major)
  [ -n "$major" ] && [ "$major" -ge 17 ] || die "Java 17 or later is needed (found: ${major:-none})"
}

ensure_maven() {
  command -v mvn >/dev/null 2>&1 || apt_install maven
}

ensure_nats_server() {
  if ! command -v nats-server >/dev/null 2>&1 && ! command -v gnatsd >/dev/null 2>&1; then
    apt_install nats-server
  fi
  # Debian puts it in /usr/sbin, which is not on every user's PATH.
  case ":$PATH:" in *":/usr/sbin:"*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac
  command -v nats-server >/dev/null 2>&1 || command -v gnatsd >/dev/null 2>&1 \
    || die "nats-server is not on PATH after installing it"
}

# The JVM options scripts/run ships: its JAVA_OPTS default (empty when the line is not found), so that
# the benchmark and the soak measure what users get.
shipped_java_opts() { sed -n 's/^JAVA_OPTS=\${JAVA_OPTS:-"\(.*\)"}$/\1/p' scripts/run; }
