using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;

namespace Onboarding.DeviceSim.Fleet;

/// <summary>The stages of onboarding a device goes through, in order; the last two are seen from the NMS and the owner.</summary>
internal enum FleetStage
{
    PoweredOn,
    Redirected,
    Bootstrapped,
    CalledHome,
    Configured,
    Onboarded,
    Notified,
}

/// <summary>One device of a fleet run: its fault, when it reached each stage, where it stopped and why.</summary>
internal sealed class FleetDevice(string serial, DeviceFault fault)
{
    public static readonly IReadOnlyList<FleetStage> Stages = Enum.GetValues<FleetStage>();

    private readonly DateTimeOffset?[] _reached = new DateTimeOffset?[Stages.Count];
    private readonly List<string> _callHomeFailures = [];

    /// <summary>The serial the device was minted with (its order, its file under devices/).</summary>
    public string Serial { get; } = serial;

    public DeviceFault Fault { get; } = fault;

    /// <summary>The serial its IDevID carries: the minted one, except for an <see cref="DeviceFault.UnknownSerial"/> device.</summary>
    public string PresentedSerial { get; set; } = serial;

    /// <summary>What the device itself said when it gave up: the stage it was trying to reach, a short reason, the detail.</summary>
    public (FleetStage Stage, string Reason, string Detail)? Error { get; private set; }

    public bool Finished { get; private set; }

    public DeviceOutcome? Bootstrap { get; set; }

    public CallHomeOutcome? CallHome { get; set; }

    /// <summary>What the NMS's REST API says about the device after the run (the demo fills it in): null when it was not asked.</summary>
    public NmsView? Nms { get; set; }

    public IReadOnlyList<string> CallHomeFailures
    {
        get
        {
            lock (_callHomeFailures)
                return [.. _callHomeFailures];
        }
    }

    public DateTimeOffset? At(FleetStage stage)
    {
        lock (_reached)
            return _reached[(int)stage];
    }

    /// <summary>Notes the first time the device reached <paramref name="stage"/>; later calls keep that time.</summary>
    public void Reach(FleetStage stage, DateTimeOffset? at = null)
    {
        lock (_reached)
            _reached[(int)stage] ??= at ?? DateTimeOffset.UtcNow;
    }

    public bool Reached(FleetStage stage) => At(stage) is not null;

    /// <summary>The furthest stage reached.</summary>
    public FleetStage LastStage => Stages.Last(s => Reached(s) || s == FleetStage.PoweredOn);

    public void Fail(FleetStage stage, string reason, string detail)
    {
        Error = (stage, reason, detail);
        Finished = true;
    }

    public void Finish() => Finished = true;

    public void NoteCallHomeFailure(string reason, string detail)
    {
        lock (_callHomeFailures)
            _callHomeFailures.Add($"{reason}: {detail}");
    }

    /// <summary>Seconds from the stage before <paramref name="stage"/> to it (null when either was not reached).</summary>
    public double? SecondsTo(FleetStage stage) =>
        stage == FleetStage.PoweredOn || At(stage) is not { } to || At(stage - 1) is not { } from ? null : (to - from).TotalSeconds;
}

/// <summary>The NMS's account of a device: its id and state, and the reason the timeline gives for trouble (or null).</summary>
/// <param name="State">The lifecycle state, or null when the NMS has no record of the serial.</param>
internal sealed record NmsView(Guid? DeviceId, string? State, string? Reason)
{
    public bool HasRecord => State is not null;
}

/// <summary>Stage names as the report and the result file spell them.</summary>
internal static class FleetStageNames
{
    public static string Of(FleetStage stage) => stage switch
    {
        FleetStage.PoweredOn => "powered-on",
        FleetStage.Redirected => "redirected",
        FleetStage.Bootstrapped => "bootstrapped",
        FleetStage.CalledHome => "called-home",
        FleetStage.Configured => "configured",
        FleetStage.Onboarded => "onboarded",
        FleetStage.Notified => "notified",
        _ => stage.ToString(),
    };
}
