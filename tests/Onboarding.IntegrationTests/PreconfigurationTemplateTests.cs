using System.Net;
using System.Net.Http.Json;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Provisioning.Api;

namespace Onboarding.IntegrationTests;

/// <summary>The templates API over HTTP with real PostgreSQL: create/replace, list, get, delete, validation, tenant isolation, render preview.</summary>
public class PreconfigurationTemplateTests(OnboardingFactory factory) : ProvisioningRig(factory), IClassFixture<OnboardingFactory>
{
    private const string Sys = "urn:ietf:params:xml:ns:yang:ietf-system";
    private const string Base = "/api/preconfiguration/templates";
    private static readonly string Hostname = $"<config><system xmlns=\"{Sys}\"><hostname>{{{{serial}}}}</hostname><contact>{{{{customer}}}}</contact></system></config>";

    [Fact]
    public async Task Templates_are_created_replaced_listed_read_and_deleted()
    {
        var setup = await ManufacturerAsync("Template Crud Telecom");

        var created = await setup.Customer.PutAsJsonAsync($"{Base}/MX204", new { kind = "netconf", body = Hostname });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"{Base}/MX204", created.Headers.Location?.ToString());
        var replaced = await setup.Customer.PutAsJsonAsync($"{Base}/MX204", new { kind = "cli", body = "set system host-name {{serial}}" });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var any = await setup.Customer.PutAsJsonAsync($"{Base}/*", new { kind = "cli", body = "echo {{model}}" });
        Assert.Equal(HttpStatusCode.Created, any.StatusCode);

        var list = (await setup.Customer.GetFromJsonAsync<TemplateSummary[]>(Base))!;
        Assert.Equal(["*", "MX204"], list.Select(t => t.DeviceType));
        Assert.Equal("cli", list[1].Kind);
        var one = (await setup.Customer.GetFromJsonAsync<TemplateView>($"{Base}/MX204"))!;
        Assert.Equal("set system host-name {{serial}}", one.Body);
        Assert.True(one.UpdatedAt >= one.CreatedAt);

        Assert.Equal(HttpStatusCode.NoContent, (await setup.Customer.DeleteAsync($"{Base}/MX204")).StatusCode);
        await Problem.AssertAsync(await setup.Customer.GetAsync($"{Base}/MX204"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await setup.Customer.DeleteAsync($"{Base}/MX204"), HttpStatusCode.NotFound);
        Assert.Equal(["*"], (await setup.Customer.GetFromJsonAsync<TemplateSummary[]>(Base))!.Select(t => t.DeviceType));
    }

    [Theory]
    [InlineData("netconf", "<config><system xmlns=\"urn:x\"><a>{{serial}}</a></config>", "not well-formed")]
    [InlineData("netconf", "<config><system xmlns=\"urn:x\"><a>{{nosuch}}</a></system></config>", "unknown variable 'nosuch'")]
    [InlineData("netconf", "<data><system xmlns=\"urn:x\"/></data>", "<config>")]
    [InlineData("netconf", "<config><system xmlns=\"urn:x\">{{{serial}}}</system></config>", "unescaped")]
    [InlineData("cli", "echo {{#each}}", "does not compile")]
    [InlineData("cli", "   \n  ", "may not be empty")]
    public async Task A_template_that_does_not_render_is_refused_and_nothing_is_stored(string kind, string body, string expected)
    {
        var setup = await ManufacturerAsync("Template Validation Telecom " + Guid.NewGuid().ToString("N")[..6]);
        await PutTemplateAsync(setup, "MX204", "cli", "echo kept");

        var problem = await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{Base}/MX204", new { kind, body }), "body");

        Assert.Contains(expected, problem.GetProperty("errors").GetProperty("body")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("echo kept", (await setup.Customer.GetFromJsonAsync<TemplateView>($"{Base}/MX204"))!.Body);
    }

    [Fact]
    public async Task A_bad_kind_or_device_type_is_a_validation_problem()
    {
        var setup = await ManufacturerAsync("Template Fields Telecom");
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{Base}/MX204", new { kind = "yaml", body = "x" }), "kind");
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{Base}/MX204", new { body = "x" }), "kind");
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{Base}/{new string('m', 201)}", new { kind = "cli", body = "x" }), "deviceType");
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{Base}/%20MX", new { kind = "cli", body = "x" }), "deviceType");
        Assert.Empty((await setup.Customer.GetFromJsonAsync<TemplateSummary[]>(Base))!);
    }

    [Fact]
    public async Task Another_customers_templates_and_devices_are_invisible()
    {
        var alice = await ManufacturerAsync("Template Alice");
        var bob = await ManufacturerAsync("Template Bob");
        await PutTemplateAsync(alice, "MX204", "netconf", Hostname);
        await CalledHomeDeviceAsync(alice, "TA-1");
        await PutTemplateAsync(bob, "MX204", "cli", "echo bob");

        Assert.Equal("cli", (await bob.Customer.GetFromJsonAsync<TemplateView>($"{Base}/MX204"))!.Kind);
        Assert.Equal(["MX204"], (await bob.Customer.GetFromJsonAsync<TemplateSummary[]>(Base))!.Select(t => t.DeviceType));
        await Problem.AssertAsync(await bob.Customer.GetAsync($"{Base}/*"), HttpStatusCode.NotFound);
        // Bob's template cannot be rendered for Alice's device: her serial is unknown to him.
        await Problem.AssertAsync(await bob.Customer.PostAsync($"{Base}/MX204/render?serial=TA-1", null), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await bob.Customer.DeleteAsync($"{Base}/MX204")).StatusCode);
        Assert.Equal("netconf", (await alice.Customer.GetFromJsonAsync<TemplateView>($"{Base}/MX204"))!.Kind);
        using var anonymous = Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Base)).StatusCode);
    }

    [Fact]
    public async Task Render_shows_what_a_device_would_get_without_touching_it()
    {
        var setup = await ManufacturerAsync("Render & Preview <Telecom>");
        await PutTemplateAsync(setup, "MX204", "netconf", Hostname);
        await PutTemplateAsync(setup, "*", "cli", "echo {{serial}} {{address}}");
        var device = await CalledHomeDeviceAsync(setup, "RP-1");
        var stepsBefore = (await TimelineAsync(setup, device.Id)).Steps.Count;

        var response = await setup.Customer.PostAsync($"{Base}/MX204/render?serial=RP-1", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var preview = (await response.Content.ReadFromJsonAsync<RenderPreview>())!;
        Assert.True(preview.SelectedForDevice);
        Assert.Equal(device.Id.ToString(), preview.DeviceId);
        Assert.Contains("<hostname>RP-1</hostname>", preview.Rendered, StringComparison.Ordinal);
        Assert.Contains("<contact>Render &amp; Preview &lt;Telecom&gt;</contact>", preview.Rendered, StringComparison.Ordinal);

        // The '*' template is not the one this MX204 gets, and it needs the call-home address.
        var noAddress = await Problem.AssertValidationAsync(await setup.Customer.PostAsync($"{Base}/*/render?serial=RP-1", null), "template");
        Assert.Contains("?address=", noAddress.GetProperty("errors").GetProperty("template")[0].GetString(), StringComparison.Ordinal);
        var other = (await (await setup.Customer.PostAsync($"{Base}/*/render?serial=RP-1&address=2001:db8::7", null)).Content.ReadFromJsonAsync<RenderPreview>())!;
        Assert.False(other.SelectedForDevice);
        Assert.Equal("echo RP-1 2001:db8::7", other.Rendered);

        await Problem.AssertValidationAsync(await setup.Customer.PostAsync($"{Base}/*/render?serial=RP-1&address=not-an-ip", null), "address");
        await Problem.AssertValidationAsync(await setup.Customer.PostAsync($"{Base}/*/render", null), "serial");
        await Problem.AssertAsync(await setup.Customer.PostAsync($"{Base}/*/render?serial=NOPE", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await setup.Customer.PostAsync($"{Base}/EX9/render?serial=RP-1", null), HttpStatusCode.NotFound);
        var after = await TimelineAsync(setup, device.Id);
        Assert.Equal(stepsBefore, after.Steps.Count);
        Assert.Equal(Onboarding.Inventory.Contracts.DeviceState.CalledHome, after.State);
    }
}
