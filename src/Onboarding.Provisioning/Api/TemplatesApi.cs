using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.Provisioning.Apply;
using Onboarding.Provisioning.Data;
using Onboarding.Provisioning.Templates;

namespace Onboarding.Provisioning.Api;

/// <summary>The customer's pre-configuration templates: one per device type (a device's model) and one <c>*</c> default.</summary>
internal static class TemplatesApi
{
    public static void MapTemplatesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/preconfiguration/templates").WithTags("Pre-configuration").RequireAuthorization();
        group.MapGet("/", List)
            .WithName("ListPreconfigurationTemplates")
            .WithSummary("Your pre-configuration templates (without their bodies).");
        group.MapGet("/{deviceType}", Get)
            .WithName("GetPreconfigurationTemplate")
            .WithSummary("One template with its body; '*' is the default for models without one.");
        group.MapPut("/{deviceType}", Put)
            .WithName("PutPreconfigurationTemplate")
            .WithSummary("Creates or replaces the template for a device type (a device's model, or '*'). Checked by a trial render.");
        group.MapDelete("/{deviceType}", Delete)
            .WithName("DeletePreconfigurationTemplate")
            .WithSummary("Deletes a template; devices of that model then get the '*' template, if any.");
        group.MapPost("/{deviceType}/render", Render)
            .WithName("RenderPreconfigurationTemplate")
            .WithSummary("Renders the template for one of your devices (by serial) without touching the device: what it would be sent.");
    }

    private static async Task<Ok<TemplateSummary[]>> List(ClaimsPrincipal user, TemplateStore store, CancellationToken cancellationToken)
    {
        var templates = await store.ListAsync(user.GetCustomerId(), cancellationToken);
        return TypedResults.Ok(templates.Select(t => new TemplateSummary(t.DeviceType, t.Kind, t.Body.Length, t.UpdatedAt)).ToArray());
    }

    private static async Task<Results<Ok<TemplateView>, ValidationProblem, ProblemHttpResult>> Get(string deviceType, ClaimsPrincipal user, TemplateStore store,
        CancellationToken cancellationToken)
    {
        if (InvalidDeviceType(deviceType) is { } invalid)
            return invalid;
        var template = await store.GetAsync(user.GetCustomerId(), deviceType, cancellationToken);
        return template is null ? NotFound(deviceType) : TypedResults.Ok(View(template));
    }

    private static async Task<Results<Created<TemplateView>, Ok<TemplateView>, ValidationProblem>> Put(string deviceType, TemplateRequest? request,
        ClaimsPrincipal user, TemplateStore store, TemplateRenderer renderer, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (InvalidDeviceType(deviceType) is { } invalid)
            return invalid;
        if (!TemplateKinds.TryParse(request?.Kind, out var kind))
            return Invalid("kind", "kind is 'netconf' (an XML <config> body for edit-config) or 'cli' (commands, one per line).");
        var body = request!.Body;
        if (string.IsNullOrWhiteSpace(body))
            return Invalid("body", "body is the template text and may not be empty.");
        if (body.Length > PreconfigurationLimits.MaxBodyLength)
            return Invalid("body", $"body may hold at most {PreconfigurationLimits.MaxBodyLength} characters.");
        try
        {
            renderer.Validate(kind, body);
        }
        catch (TemplateException e)
        {
            // The message names the problem (and a variable or XML position), never a value: bodies may hold secrets.
            loggers.CreateLogger(typeof(TemplatesApi)).LogInformation("Template {DeviceType} refused: {Reason}", deviceType, e.Message);
            return Invalid("body", e.Message);
        }

        var customerId = user.GetCustomerId();
        var created = await store.PutAsync(customerId, deviceType, kind.ToWire(), body, cancellationToken);
        var stored = (await store.GetAsync(customerId, deviceType, cancellationToken))!;
        return created
            ? TypedResults.Created($"/api/preconfiguration/templates/{Uri.EscapeDataString(deviceType)}", View(stored))
            : TypedResults.Ok(View(stored));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(string deviceType, ClaimsPrincipal user, TemplateStore store,
        CancellationToken cancellationToken)
    {
        if (InvalidDeviceType(deviceType) is { } invalid)
            return invalid;
        return await store.DeleteAsync(user.GetCustomerId(), deviceType, cancellationToken) ? TypedResults.NoContent() : NotFound(deviceType);
    }

    private static async Task<Results<Ok<RenderPreview>, ValidationProblem, ProblemHttpResult>> Render(string deviceType, string? serial, string? address,
        ClaimsPrincipal user, TemplateStore store, TemplateRenderer renderer, IDeviceDirectory directory, Preconfiguration preconfiguration,
        CancellationToken cancellationToken)
    {
        if (InvalidDeviceType(deviceType) is { } invalid)
            return invalid;
        if (string.IsNullOrWhiteSpace(serial))
            return Invalid("serial", "serial names the device to render for (?serial=…).");
        if (address is not null && !IPAddress.TryParse(address, out _))
            return Invalid("address", "address is the device's IP address as call home would see it, e.g. 192.0.2.7 or 2001:db8::7.");

        var customerId = user.GetCustomerId();
        var template = await store.GetAsync(customerId, deviceType, cancellationToken);
        if (template is null)
            return NotFound(deviceType);
        var device = await directory.FindAsync(customerId, serial, cancellationToken);
        if (device is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Device not found", detail: "You have no device with that serial.");

        var selected = await store.FindForDeviceAsync(customerId, device.Model, cancellationToken);
        var kind = TemplateKinds.FromStored(template.Kind);
        var variables = await preconfiguration.VariablesAsync(device, address is null ? null : IPAddress.Parse(address).ToString(), cancellationToken);
        try
        {
            var rendered = renderer.Render(kind, template.Body, variables);
            return TypedResults.Ok(new RenderPreview(template.DeviceType, template.Kind, device.SerialNumber, device.Id.ToString(), device.Model,
                selected?.DeviceType == template.DeviceType, variables.Address, rendered));
        }
        catch (TemplateException e)
        {
            return Invalid("template", e.Message + (variables.Address is null && e.Message.Contains("'address'", StringComparison.Ordinal)
                ? " (pass ?address=… to preview a template that uses the call-home address)" : ""));
        }
    }

    private static ValidationProblem? InvalidDeviceType(string deviceType) =>
        deviceType.Length is 0 or > PreconfigurationLimits.MaxDeviceTypeLength || deviceType.Any(char.IsControl) || deviceType.Trim() != deviceType
            ? Invalid("deviceType", $"deviceType is a device model as bookkept (1–{PreconfigurationLimits.MaxDeviceTypeLength} characters, no control characters or surrounding spaces) or '*'.")
            : null;

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    private static ProblemHttpResult NotFound(string deviceType) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Template not found", detail: $"You have no template for device type '{deviceType}'.");

    private static TemplateView View(PreconfigurationTemplate t) => new(t.DeviceType, t.Kind, t.Body, t.CreatedAt, t.UpdatedAt);
}
