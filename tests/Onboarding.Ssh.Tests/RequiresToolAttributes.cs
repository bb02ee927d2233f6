namespace Onboarding.Ssh.Tests;

/// <summary>
/// An interop fact that is skipped, with the reason, when an OpenSSH tool is not installed. This is only a
/// fallback for developer machines: under CI (CI=true) nothing is skipped, so a missing peer fails loudly
/// instead of hiding behind a skip; ./test.sh installs openssh-client, openssh-server and ssh-audit.
/// </summary>
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(string tool)
    {
        if (!InteropPeers.Required && (OperatingSystem.IsWindows() || ProcessRunner.Find(tool) is null))
            Skip = $"{tool} is not installed (apt-get install openssh-client openssh-server ssh-audit)";
    }
}

/// <summary>The <see cref="RequiresToolFactAttribute"/> counterpart for theories.</summary>
public sealed class RequiresToolTheoryAttribute : TheoryAttribute
{
    public RequiresToolTheoryAttribute(string tool)
    {
        if (!InteropPeers.Required && (OperatingSystem.IsWindows() || ProcessRunner.Find(tool) is null))
            Skip = $"{tool} is not installed (apt-get install openssh-client openssh-server ssh-audit)";
    }
}

/// <summary>An interop fact that needs a Python module (e.g. paramiko from python3-paramiko); skipped with the reason when absent.</summary>
public sealed class RequiresPythonModuleFactAttribute : FactAttribute
{
    public RequiresPythonModuleFactAttribute(string module)
    {
        if (!InteropPeers.Required && (OperatingSystem.IsWindows() || !ProcessRunner.HasPythonModule(module)))
            Skip = $"python3 module {module} is not available (apt-get install python3-{module})";
    }
}

internal static class InteropPeers
{
    /// <summary>True in CI, where every interop peer must be present and a missing one is a failure.</summary>
    public static bool Required => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
