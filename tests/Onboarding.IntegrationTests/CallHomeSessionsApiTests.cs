using System.Net;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.CallHome.Sessions;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The sessions API on a live call-home session (OpenSSH sshd as the device, yuma123 netconfd behind its netconf
/// subsystem): NETCONF RPCs pass through and come back as the rpc-reply, rpc-errors as ProblemDetails, bad XML is
/// refused before anything reaches the device, other customers see 404, and DELETE disconnects the session.
/// </summary>
public class CallHomeSessionsApiTests(CallHomeFactory factory, NetconfdServer netconfd)
    : CallHomeRig(factory), IClassFixture<CallHomeFactory>, IClassFixture<NetconfdServer>
{
    private const string GetConfig = "<rpc xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" message-id=\"7\"><get-config><source><running/></source></get-config></rpc>";

    private static readonly XNamespace Nc = "urn:ietf:params:xml:ns:netconf:base:1.0";

    private CallHomeSessions Sessions => Factory.Services.GetRequiredService<CallHomeSessions>();

    private static StringContent Xml(string xml) => new(xml, Encoding.UTF8, "application/xml");

    [Fact]
    public async Task Rpcs_go_over_the_live_session_bad_input_is_refused_and_delete_disconnects()
    {
        var setup = await ManufacturerAsync("Sessions API Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-API-1", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        var call = device.CallHome(Factory.CallHomePort);
        Assert.True((await Factory.Probe.ResultAsync(bookkept.Id)).Succeeded, device.Log.ToString());
        var rpc = $"/api/callhome/sessions/{bookkept.Id}/rpc";

        // A whole <rpc>, and a bare operation: both answered by netconfd with <data>.
        foreach (var body in new[] { GetConfig, "<get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><source><running/></source></get-config>" })
        {
            var ok = await setup.Customer.PostAsync(rpc, Xml(body));
            var text = await ok.Content.ReadAsStringAsync();
            Assert.True(ok.StatusCode == HttpStatusCode.OK, text + "\n" + device.Log);
            Assert.Equal("application/xml", ok.Content.Headers.ContentType?.MediaType);
            var reply = XElement.Parse(text);
            Assert.Equal(Nc + "rpc-reply", reply.Name);
            Assert.NotNull(reply.Element(Nc + "data"));
        }

        // The device's rpc-error comes back as ProblemDetails carrying the error tag.
        var refused = await setup.Customer.PostAsync(rpc, Xml("<get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><source><no-such-datastore/></source></get-config>"));
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.UnprocessableEntity);
        Assert.NotEqual(0, problem.GetProperty("rpcErrors").GetArrayLength());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("rpcErrors")[0].GetProperty("tag").GetString()));

        // Refused before anything reaches the device: not well-formed, a DTD (entity expansion), too large, close-session.
        await Problem.AssertAsync(await setup.Customer.PostAsync(rpc, Xml("<get-config><source>")), HttpStatusCode.BadRequest);
        var dtd = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">&b;</get-config>";
        await Problem.AssertAsync(await setup.Customer.PostAsync(rpc, Xml(dtd)), HttpStatusCode.BadRequest);
        var huge = "<get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><filter>" + new string('x', 300 * 1024) + "</filter></get-config>";
        await Problem.AssertAsync(await setup.Customer.PostAsync(rpc, Xml(huge)), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await setup.Customer.PostAsync(rpc, Xml("<close-session xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"/>")), HttpStatusCode.BadRequest);

        // Another customer's device, an unknown device, an anonymous caller: nothing to see.
        var (stranger, _) = await Factory.SignUpAsync("Sessions API Stranger Telecom");
        await Problem.AssertAsync(await stranger.PostAsync(rpc, Xml(GetConfig)), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await stranger.DeleteAsync($"/api/callhome/sessions/{bookkept.Id}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await setup.Customer.PostAsync($"/api/callhome/sessions/{Guid.NewGuid()}/rpc", Xml(GetConfig)), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Factory.CreateClient().PostAsync(rpc, Xml(GetConfig))).StatusCode);

        // None of that hurt the session: it still answers, and it is the same session.
        var live = Assert.IsType<LiveCallHome>(Sessions.Find(bookkept.Id));
        Assert.Equal(HttpStatusCode.OK, (await setup.Customer.PostAsync(rpc, Xml(GetConfig))).StatusCode);

        // DELETE disconnects: gone from the registry, the device sees the connection end, then 404.
        Assert.Equal(HttpStatusCode.NoContent, (await setup.Customer.DeleteAsync($"/api/callhome/sessions/{bookkept.Id}")).StatusCode);
        Assert.Null(Sessions.Find(bookkept.Id));
        await ExitsAsync(call);
        Assert.True(live.Session.Completion.IsCompleted);
        await Problem.AssertAsync(await setup.Customer.DeleteAsync($"/api/callhome/sessions/{bookkept.Id}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await setup.Customer.PostAsync(rpc, Xml(GetConfig)), HttpStatusCode.NotFound);
    }
}
