using System.Text.Json.Serialization;

namespace Onboarding.Drop.Data;

/// <summary>One file a manufacturer uploaded, kept as received so that nothing is ever lost.</summary>
internal sealed class Upload
{
    public Guid Id { get; set; }

    public Guid ManufacturerId { get; set; }

    public Guid CustomerId { get; set; }

    public required string FileName { get; set; }

    public long Size { get; set; }

    public required string Sha256 { get; set; }

    public required byte[] Content { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public UploadOutcome Outcome { get; set; }

    public required string Summary { get; set; }

    /// <summary>The human-readable result file the manufacturer reads back from /processed or /rejected.</summary>
    public required string Report { get; set; }
}

/// <summary>The running total of one manufacturer's stored uploads, for its quota.</summary>
internal sealed class ManufacturerUsage
{
    public Guid ManufacturerId { get; set; }

    public int Files { get; set; }

    public long Bytes { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<UploadOutcome>))]
public enum UploadOutcome
{
    /// <summary>Stored, not yet bookkept (or bookkeeping failed for a reason of ours; the raw file is kept).</summary>
    Pending,
    Accepted,
    Rejected,
}
