using System.Runtime.Versioning;

// The test handler reads struct stat through glibc and sets Unix modes; the suite runs on Linux.
[assembly: SupportedOSPlatform("linux")]
