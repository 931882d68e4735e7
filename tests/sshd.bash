# sshd.bash - a real OpenSSH server on 127.0.0.1 for the git-over-ssh
# tests: sshd_start DIR runs /usr/sbin/sshd on a free port with a host key
# of its own and a client key it accepts, and an ssh-agent holding that
# key. Sets SSH_PORT, SSHD_PID, SSH_AUTH_SOCK, SSH_AGENT_PID, SSH_USER and
# SSH_HOST_KEY (the host's public key line). sshd_stop stops both.

sshd_start() {
	local d=$1 i
	command -v /usr/sbin/sshd >/dev/null && command -v ssh-agent >/dev/null || return 1
	mkdir -p "$d"
	[ "$(id -u)" != 0 ] || mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C mlctl-test-host -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -C mlctl-test-client -f "$d/client_key"
	cp "$d/client_key.pub" "$d/authorized_keys"
	SSH_PORT=$(free_port)
	SSH_USER=$(id -un)
	cat > "$d/sshd_config" <<-CFG
	Port $SSH_PORT
	ListenAddress 127.0.0.1
	HostKey $d/host_key
	PidFile $d/sshd.pid
	AuthorizedKeysFile $d/authorized_keys
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	PermitRootLogin prohibit-password
	CFG
	/usr/sbin/sshd -D -e -f "$d/sshd_config" 2>> "$d/sshd.log" &
	SSHD_PID=$!
	oci_wait_port "$SSH_PORT" || { cat "$d/sshd.log"; return 1; }
	eval "$(ssh-agent -s -a "$d/agent.sock")" >/dev/null
	ssh-add -q "$d/client_key" 2>/dev/null
	SSH_HOST_KEY=$(cut -d' ' -f1,2 "$d/host_key.pub")
	export SSH_PORT SSHD_PID SSH_AUTH_SOCK SSH_AGENT_PID SSH_USER SSH_HOST_KEY
}

sshd_stop() {
	[ -z "${SSH_AGENT_PID:-}" ] || kill "$SSH_AGENT_PID" 2>/dev/null || true
	[ -z "${SSHD_PID:-}" ] || { kill "$SSHD_PID" 2>/dev/null; wait "$SSHD_PID" 2>/dev/null; } || true
}
