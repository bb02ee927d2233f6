using System.Text;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;
using Onboarding.Ssh.Keys;
using Onboarding.Sztp;
using SshHostKey = Onboarding.Ssh.Keys.SshHostKey;

namespace Onboarding.DeviceSim.Tests;

/// <summary>
/// Minted devices in a temporary directory whose state files say what a bootstrap would have left: the
/// onboarding-information configuration as the NMS renders it (CallHomeConfiguration in Onboarding.NmsBootstrap),
/// run through <see cref="DeviceState.WithBootstrap"/>, so the configuration reader is exercised on the way.
/// </summary>
internal sealed class SimulatedFleet : IDisposable
{
    public const string NmsUser = "onboarding-nms";
    public const string Secret = "per-device \"secret\" 42";

    public SimulatedFleet(int devices = 1, DeviceKeyType keyType = DeviceKeyType.P256)
    {
        Root = Path.Combine(Path.GetTempPath(), "devicesim-" + Guid.NewGuid().ToString("N"));
        FactoryMint.Mint(Root, devices, keyType);
        Devices = DeviceIdentity.LoadDirectory(Root);
    }

    public string Root { get; }
    public string StateDirectory => Path.Combine(Root, DeviceState.Directory);
    public IReadOnlyList<DeviceIdentity> Devices { get; }

    /// <summary>The NMS client key the devices are told to accept.</summary>
    public SshHostKey NmsKey { get; } = SshHostKey.GenerateEd25519();

    /// <summary>Writes each device's state as if bootstrap had delivered a call-home configuration in <paramref name="style"/>.</summary>
    public void Bootstrapped(CallHomeStyle style, int port, string host = "127.0.0.1")
    {
        foreach (var device in Devices)
        {
            var configuration = style == CallHomeStyle.Junos
                ? JunosConfiguration(device.Serial, host, port, NmsKey.PublicKey.ToAuthorizedKeysLine())
                : NetconfConfiguration(host, port, Convert.ToBase64String(NmsKey.PublicKey.Blob));
            var (state, key) = DeviceState.LoadOrCreate(StateDirectory, device.Serial);
            key.Dispose();
            state.WithBootstrap(new Uri("https://nms.example:8443/"), new OnboardingInformation(Configuration: Encoding.UTF8.GetBytes(configuration)), DateTimeOffset.UtcNow)
                .Save(StateDirectory);
        }
    }

    public DeviceState State(DeviceIdentity device) => DeviceState.Load(StateDirectory, device.Serial)!;

    public SshPublicKey PinnedKey(DeviceIdentity device) => SshPublicKey.ParseAuthorizedKeysLine(State(device).HostKeyPublic);

    public CallHomeSettings Settings() => new()
    {
        StateDirectory = StateDirectory,
        BaseDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        MaxAttempts = 0,
    };

    /// <summary>The ietf-netconf-server document the NMS renders (CallHomeConfiguration.Netconf), byte for byte in structure.</summary>
    public static string NetconfConfiguration(string host, int port, string keyBase64) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <netconf-server xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-server">
          <call-home>
            <netconf-client>
              <name>onboarding-nms</name>
              <endpoints>
                <endpoint>
                  <name>nms-call-home</name>
                  <ssh>
                    <tcp-client-parameters>
                      <remote-address>{host}</remote-address>
                      <remote-port>{port}</remote-port>
                    </tcp-client-parameters>
                    <ssh-server-parameters>
                      <client-authentication>
                        <users>
                          <user>
                            <name>{NmsUser}</name>
                            <public-keys>
                              <inline-definition>
                                <public-key>
                                  <name>onboarding-nms</name>
                                  <public-key-format xmlns:ct="urn:ietf:params:xml:ns:yang:ietf-crypto-types">ct:ssh-public-key-format</public-key-format>
                                  <public-key>{keyBase64}</public-key>
                                </public-key>
                              </inline-definition>
                            </public-keys>
                          </user>
                        </users>
                      </client-authentication>
                    </ssh-server-parameters>
                  </ssh>
                </endpoint>
              </endpoints>
              <connection-type>
                <persistent />
              </connection-type>
            </netconf-client>
          </call-home>
        </netconf-server>
        """;

    /// <summary>The Junos text the NMS renders (CallHomeConfiguration.Junos).</summary>
    public static string JunosConfiguration(string serial, string host, int port, string keyLine) => $$"""
        system {
            login {
                user {{NmsUser}} {
                    class super-user;
                    authentication {
                        ssh-ed25519 "{{keyLine}}";
                    }
                }
            }
            services {
                netconf {
                    ssh;
                }
                outbound-ssh {
                    client onboarding-nms {
                        device-id "{{serial}}";
                        secret "{{Secret.Replace("\"", "\\\"", StringComparison.Ordinal)}}";
                        services netconf;
                        keep-alive {
                            retry 3;
                            timeout 15;
                        }
                        reconnect-strategy sticky;
                        {{host}} port {{port}};
                    }
                }
            }
        }

        """;

    public void Dispose()
    {
        NmsKey.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
