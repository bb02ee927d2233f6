using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Onboarding.Sztp;
using SshHostKey = Onboarding.Ssh.Keys.SshHostKey;
using Onboarding.Ssh.Keys;

namespace Onboarding.DeviceSim.CallHome;

/// <summary>How the device dials home: RFC 8071 as configured by ietf-netconf-server, or Junos outbound-ssh (with its preamble).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CallHomeStyle>))]
internal enum CallHomeStyle
{
    Netconf,
    Junos,
}

/// <summary>What the device learnt from its onboarding-information about calling home.</summary>
/// <param name="UserName">The user the NMS logs in as; null accepts the client key under any user name.</param>
/// <param name="ClientKey">The NMS client key the device authorizes, as an authorized_keys line.</param>
/// <param name="DeviceSecret">The Junos outbound-ssh secret: with it the preamble carries HOST-KEY and its HMAC.</param>
internal sealed record CallHomeTarget(CallHomeStyle Style, string Host, int Port, string? UserName, string? ClientKey, string? DeviceSecret);

/// <summary>
/// A simulated device's memory across runs, <c>&lt;directory&gt;/state/&lt;serial&gt;.json</c> (mode 0600): its SSH host key
/// (generated on first use, reported in bootstrap-complete's ssh-host-keys, RFC 8572 §7.3, and presented at call home),
/// and what the last bootstrap received. Demo material like the IDevIDs beside it: it holds a private key and the device
/// secret, so keep it out of git.
/// </summary>
internal sealed record DeviceState
{
    public const string Directory = "state";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public required string Serial { get; init; }

    /// <summary>The host key as an unencrypted openssh-key-v1 PEM.</summary>
    public required string HostKey { get; init; }

    /// <summary>Its public half as an authorized_keys line, for the operator's eyes.</summary>
    public required string HostKeyPublic { get; init; }

    public DateTimeOffset? BootstrappedAt { get; init; }
    public string? BootstrapServer { get; init; }

    /// <summary>The configuration of the onboarding-information, as received (UTF-8 text).</summary>
    public string? Configuration { get; init; }

    public CallHomeTarget? CallHome { get; init; }

    public static string PathOf(string stateDirectory, string serial) => Path.Combine(stateDirectory, serial + ".json");

    public static DeviceState? Load(string stateDirectory, string serial)
    {
        var path = PathOf(stateDirectory, serial);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<DeviceState>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a device state file: {e.Message}", e);
        }
    }

    public SshHostKey LoadHostKey() => SshHostKey.ParseOpenSshPrivateKey(HostKey);

    /// <summary>The device's host key: the one in its state file, or a new ed25519 key saved there before it is used.</summary>
    public static (DeviceState State, SshHostKey Key) LoadOrCreate(string stateDirectory, string serial)
    {
        var state = Load(stateDirectory, serial);
        if (state is not null)
            return (state, state.LoadHostKey());
        var key = SshHostKey.GenerateEd25519();
        state = new DeviceState { Serial = serial, HostKey = key.ToOpenSshPrivateKey(serial), HostKeyPublic = key.PublicKey.ToAuthorizedKeysLine(serial) };
        state.Save(stateDirectory);
        return (state, key);
    }

    /// <summary>Keeps what a bootstrap run received; the call-home target is parsed from the configuration when it holds one.</summary>
    public DeviceState WithBootstrap(Uri server, OnboardingInformation onboarding, DateTimeOffset now)
    {
        var configuration = onboarding.Configuration is null ? null : Encoding.UTF8.GetString(onboarding.Configuration);
        return this with
        {
            BootstrappedAt = now,
            BootstrapServer = server.GetLeftPart(UriPartial.Authority),
            Configuration = configuration,
            CallHome = configuration is null ? null : CallHomeConfigurationReader.Read(configuration),
        };
    }

    /// <summary>Written to a temporary file and renamed, so a crash never leaves half a state file; owner-only.</summary>
    public void Save(string stateDirectory)
    {
        System.IO.Directory.CreateDirectory(stateDirectory);
        var path = PathOf(stateDirectory, Serial);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
            JsonSerializer.Serialize(stream, this, Json);
        File.Move(temporary, path, overwrite: true);
    }
}
