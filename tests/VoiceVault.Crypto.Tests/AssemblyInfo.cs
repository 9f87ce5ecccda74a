// These tests drive Linux components (OpenSSL's libcrypto and command line, POSIX file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
