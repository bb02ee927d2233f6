namespace Onboarding.Netconf.Messages;

/// <summary>The capability URIs of a hello (RFC 6241 §8), compared without their "?module=…" parameters.</summary>
public sealed class NetconfCapabilities
{
    public const string Base10 = "urn:ietf:params:netconf:base:1.0";
    public const string Base11 = "urn:ietf:params:netconf:base:1.1";
    public const string Candidate = "urn:ietf:params:netconf:capability:candidate:1.0";
    public const string WritableRunning = "urn:ietf:params:netconf:capability:writable-running:1.0";
    public const string Validate10 = "urn:ietf:params:netconf:capability:validate:1.0";
    public const string Validate11 = "urn:ietf:params:netconf:capability:validate:1.1";

    private readonly HashSet<string> _uris;

    public NetconfCapabilities(IEnumerable<string> uris)
    {
        All = [.. uris];
        _uris = new HashSet<string>(All.Select(WithoutParameters), StringComparer.Ordinal);
    }

    public IReadOnlyList<string> All { get; }

    public bool Has(string uri) => _uris.Contains(WithoutParameters(uri));

    public bool HasBase10 => Has(Base10);

    public bool HasBase11 => Has(Base11);

    /// <summary>RFC 6241 §8.3: edit-config may target the candidate, and commit exists.</summary>
    public bool HasCandidate => Has(Candidate);

    /// <summary>RFC 6241 §8.2: edit-config may target running.</summary>
    public bool HasWritableRunning => Has(WritableRunning);

    /// <summary>RFC 6241 §8.6: the validate operation, 1.0 or 1.1.</summary>
    public bool HasValidate => Has(Validate11) || Has(Validate10);

    private static string WithoutParameters(string uri)
    {
        var trimmed = uri.Trim();
        var q = trimmed.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? trimmed : trimmed[..q];
    }
}
