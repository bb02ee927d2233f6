namespace Onboarding.Ssh.Tests;

/// <summary>
/// An interop fact that is skipped, with the reason, when an OpenSSH tool is not installed. This is only a
/// fallback for developer machines: CI installs openssh-client, openssh-server and ssh-audit.
/// </summary>
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(string tool)
    {
        if (OperatingSystem.IsWindows() || ProcessRunner.Find(tool) is null)
            Skip = $"{tool} is not installed (apt-get install openssh-client openssh-server ssh-audit)";
    }
}

/// <summary>The <see cref="RequiresToolFactAttribute"/> counterpart for theories.</summary>
public sealed class RequiresToolTheoryAttribute : TheoryAttribute
{
    public RequiresToolTheoryAttribute(string tool)
    {
        if (OperatingSystem.IsWindows() || ProcessRunner.Find(tool) is null)
            Skip = $"{tool} is not installed (apt-get install openssh-client openssh-server ssh-audit)";
    }
}

/// <summary>An interop fact that needs a Python module (e.g. paramiko from python3-paramiko); skipped with the reason when absent.</summary>
public sealed class RequiresPythonModuleFactAttribute : FactAttribute
{
    public RequiresPythonModuleFactAttribute(string module)
    {
        if (OperatingSystem.IsWindows() || !ProcessRunner.HasPythonModule(module))
            Skip = $"python3 module {module} is not available (apt-get install python3-{module})";
    }
}
