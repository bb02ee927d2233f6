namespace Onboarding.Provisioning.Api;

/// <summary>PUT body: <c>kind</c> is <c>netconf</c> (a &lt;config&gt; element) or <c>cli</c> (commands, one per line).</summary>
public sealed record TemplateRequest(string? Kind, string? Body);

public sealed record TemplateView(string DeviceType, string Kind, string Body, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record TemplateSummary(string DeviceType, string Kind, int BodyLength, DateTimeOffset UpdatedAt);

/// <summary>
/// What a device would be sent. <c>SelectedForDevice</c> is false when the device would get another template (its
/// model has its own, or this one is neither its model's nor <c>*</c>). <c>Address</c> is the value used for
/// <c>{{address}}</c> (null when none was given).
/// </summary>
public sealed record RenderPreview(string DeviceType, string Kind, string Serial, string DeviceId, string Model, bool SelectedForDevice,
    string? Address, string Rendered);
