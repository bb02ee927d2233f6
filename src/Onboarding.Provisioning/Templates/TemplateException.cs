namespace Onboarding.Provisioning.Templates;

/// <summary>
/// A template that does not compile or render (unknown variable in strict mode, malformed XML, no commands). The
/// message names the problem and never quotes a rendered value: templates may hold secrets.
/// </summary>
internal sealed class TemplateException(string message, Exception? inner = null) : Exception(message, inner);
