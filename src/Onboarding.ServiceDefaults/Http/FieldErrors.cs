using System.Globalization;
using System.Net.Mail;

namespace Onboarding.ServiceDefaults.Http;

/// <summary>
/// Collects field errors in the shape <c>TypedResults.ValidationProblem</c> expects; the one set of field rules every
/// module's API uses (names, e-mail addresses, URLs, DNS names), so the same input gets the same answer everywhere.
/// </summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool IsValid => _errors.Count == 0;

    public Dictionary<string, string[]> Errors => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
            _errors[field] = messages = [];
        messages.Add(message);
    }

    public void RequireText(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
            Add(field, "Required.");
        else if (value.Trim().Length > maxLength)
            Add(field, $"At most {maxLength} characters.");
        else if (value.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format))
            Add(field, "Must not contain control characters.");
    }

    public void RequireEmail(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            Add(field, "Required.");
        else if (value.Length > 320 || !MailAddress.TryCreate(value, out var address) || address.Address != value.Trim()
                 || !address.Host.Contains('.', StringComparison.Ordinal))
            Add(field, "Must be a single e-mail address such as noc@example.com.");
    }

    /// <summary>RFC 1123 host name: labels of letters, digits and inner hyphens, at most 63 each and 253 in all.</summary>
    public void RequireDnsName(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "Required.");
            return;
        }

        var name = value.EndsWith('.') ? value[..^1] : value;
        var valid = name.Length is > 0 and <= 253 && name.Split('.').All(label =>
            label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
        if (!valid)
            Add(field, "Must be a DNS host name such as redirect.example.com.");
    }
}
