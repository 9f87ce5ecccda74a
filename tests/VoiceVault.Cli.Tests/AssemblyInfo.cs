// These tests drive Linux components (openssl, python3, POSIX file modes) around the CLI process.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
