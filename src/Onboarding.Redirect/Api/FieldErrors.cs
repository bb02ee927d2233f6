using System.Net.Mail;

namespace Onboarding.Redirect.Api;

/// <summary>Collects field errors in the shape <c>TypedResults.ValidationProblem</c> expects.</summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool IsValid => _errors.Count == 0;

    public int Count => _errors.Count;

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

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
        else if (value.Any(char.IsControl))
            Add(field, "Must not contain control characters.");
    }

    public void RequireEmail(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            Add(field, "Required.");
        else if (value.Length > 320 || !MailAddress.TryCreate(value, out var address) || address.Address != value.Trim())
            Add(field, "Must be a single e-mail address such as factory@vendor.example.");
    }
}
