// The tool drives OpenSSH binaries (sshd, sftp-server) and sets Unix file modes on their key files;
// it only runs where those exist.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
