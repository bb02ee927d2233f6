using System.Xml;
using System.Xml.Linq;
using HandlebarsDotNet;
using Onboarding.Netconf;
using Onboarding.Netconf.Messages;

namespace Onboarding.Provisioning.Templates;

/// <summary>A netconf template after rendering: the &lt;config&gt; for edit-config and its top-level data elements.</summary>
internal sealed record RenderedConfig(XElement Config)
{
    public IReadOnlyList<XElement> TopElements => [.. Config.Elements()];
}

/// <summary>
/// Handlebars.Net in strict mode: a variable the template names but the device does not have is an error, never an
/// empty string silently sent to a device. No partials (nothing is read from disk), no raw output in netconf templates.
/// </summary>
internal sealed class TemplateRenderer
{
    /// <summary>A rendered template is sent as one NETCONF message or a few exec requests: keep it well below the framing limit.</summary>
    public const int MaxRenderedBytes = 1024 * 1024;

    /// <summary>Compiled templates kept at most; past it the cache starts over (bodies are the customers' own, so it is bounded).</summary>
    private const int MaxCompiledTemplates = 512;

    private readonly IHandlebars _netconf = Create(new XmlTextEncoder());
    private readonly IHandlebars _cli = Create(new CliTextEncoder());

    /// <summary>
    /// Compiling builds and JIT-compiles expression trees, milliseconds of CPU: once per template body and encoder, not
    /// once per device (bench/README.md, onboard). A compiled template is a delegate that renders concurrently.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(IHandlebars Handlebars, string Body), HandlebarsTemplate<object, object>> _compiled = new();

    /// <summary>Compiles and trial-renders with <see cref="TemplateVariables.Sample"/>: what PUT checks.</summary>
    public void Validate(TemplateKind kind, string body)
    {
        if (kind == TemplateKind.Netconf)
            RenderNetconf(body, TemplateVariables.Sample);
        else
            RenderCli(body, TemplateVariables.Sample);
    }

    public string Render(TemplateKind kind, string body, TemplateVariables variables) => kind == TemplateKind.Netconf
        ? NetconfXml.Serialize(RenderNetconf(body, variables).Config) is var bytes ? System.Text.Encoding.UTF8.GetString(bytes) : ""
        : string.Join('\n', RenderCli(body, variables));

    public RenderedConfig RenderNetconf(string body, TemplateVariables variables)
    {
        // {{{x}}} and {{&x}} bypass the XML encoder: a serial from a manufacturer's record could then add elements.
        if (body.Contains("{{{", StringComparison.Ordinal) || body.Contains("{{&", StringComparison.Ordinal))
            throw new TemplateException("netconf templates may not use unescaped output ({{{…}}} or {{&…}}): every value is XML-escaped");
        var text = RenderText(_netconf, body, variables);
        XElement root;
        try
        {
            root = NetconfXml.Parse(text, MaxRenderedBytes);
        }
        catch (NetconfException e)
        {
            throw new TemplateException($"the rendered template is not well-formed XML: {e.Message}", e);
        }
        catch (XmlException e)
        {
            throw new TemplateException($"the rendered template is not well-formed XML: {e.Message}", e);
        }

        // RFC 6241 §7.2: the <config> parameter, in the base namespace or (as written by hand) in none.
        if (root.Name.LocalName != "config" || (root.Name.Namespace != NetconfXml.Base && root.Name.Namespace != XNamespace.None))
            throw new TemplateException($"a netconf template is one <config> element (namespace {NetconfXml.Base} or none), not <{root.Name.LocalName}>");
        if (root.Nodes().OfType<XText>().Any(t => !string.IsNullOrWhiteSpace(t.Value)))
            throw new TemplateException("<config> holds text outside its data elements");
        var top = root.Elements().ToList();
        if (top.Count == 0)
            throw new TemplateException("<config> holds no data element");
        foreach (var element in top)
        {
            // Data nodes are qualified by their YANG module's namespace (RFC 6241 §3.1; RFC 7950 §7.1.3).
            if (element.Name.Namespace == XNamespace.None || element.Name.Namespace == NetconfXml.Base)
                throw new TemplateException($"<{element.Name.LocalName}> under <config> needs its YANG module's namespace (xmlns=\"…\")");
        }

        return new RenderedConfig(new XElement(NetconfXml.Base + "config", top.Select(e => new XElement(e))));
    }

    public IReadOnlyList<string> RenderCli(string body, TemplateVariables variables)
    {
        var text = RenderText(_cli, body, variables);
        var commands = text.Split('\n').Select(line => line.TrimEnd('\r').Trim()).Where(line => line.Length > 0).ToList();
        return commands.Count > 0 ? commands : throw new TemplateException("the rendered template holds no command");
    }

    private string RenderText(IHandlebars handlebars, string body, TemplateVariables variables)
    {
        var template = Compiled(handlebars, body);

        string text;
        try
        {
            text = template(variables.ToDictionary());
        }
        catch (HandlebarsDotNet.Compiler.HandlebarsUndefinedBindingException e)
        {
            // Strict mode (ThrowOnUnresolvedBindingExpression). MissingKey is the template's own text, never a value.
            throw new TemplateException($"unknown variable '{e.MissingKey}' (strict mode; known: {string.Join(", ", TemplateVariables.Names)})", e);
        }
        catch (HandlebarsException e)
        {
            throw new TemplateException($"the template does not render: {e.Message}", e);
        }

        return System.Text.Encoding.UTF8.GetByteCount(text) <= MaxRenderedBytes
            ? text
            : throw new TemplateException($"the rendered template exceeds {MaxRenderedBytes} bytes");
    }

    private HandlebarsTemplate<object, object> Compiled(IHandlebars handlebars, string body)
    {
        if (_compiled.TryGetValue((handlebars, body), out var cached))
            return cached;
        HandlebarsTemplate<object, object> template;
        try
        {
            template = handlebars.Compile(body);
        }
        catch (HandlebarsException e)
        {
            throw new TemplateException($"the template does not compile: {e.Message}", e);
        }

        if (_compiled.Count >= MaxCompiledTemplates)
            _compiled.Clear();
        _compiled[(handlebars, body)] = template;
        return template;
    }

    private static IHandlebars Create(ITextEncoder encoder) => Handlebars.Create(new HandlebarsConfiguration
    {
        ThrowOnUnresolvedBindingExpression = true,
        TextEncoder = encoder,
        PartialTemplateResolver = null,
    });
}
