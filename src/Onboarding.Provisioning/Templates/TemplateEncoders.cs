using System.Text;
using HandlebarsDotNet;

namespace Onboarding.Provisioning.Templates;

/// <summary>Handlebars' three ways to hand over a value, all reduced to one per-character rule.</summary>
internal abstract class CharacterEncoder : ITextEncoder
{
    public void Encode(StringBuilder text, TextWriter target)
    {
        ArgumentNullException.ThrowIfNull(text);
        Encode(text.ToString(), target);
    }

    public void Encode(string text, TextWriter target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (string.IsNullOrEmpty(text))
            return;
        foreach (var c in text)
            Write(c, target);
    }

    public void Encode<T>(T text, TextWriter target)
        where T : IEnumerator<char>
    {
        ArgumentNullException.ThrowIfNull(target);
        while (text.MoveNext())
            Write(text.Current, target);
    }

    protected abstract void Write(char c, TextWriter target);
}

/// <summary>
/// XML 1.0 §2.4 escaping of every value a netconf template interpolates with <c>{{…}}</c>, so a serial such as
/// <c>A&amp;B&lt;C</c> stays one text node and cannot add elements. (Handlebars' default is HTML encoding, which also
/// rewrites <c>=</c> and <c>`</c> into entities an XML parser would keep as text but a reader would not expect.)
/// </summary>
internal sealed class XmlTextEncoder : CharacterEncoder
{
    protected override void Write(char c, TextWriter target)
    {
        switch (c)
        {
            case '&': target.Write("&amp;"); break;
            case '<': target.Write("&lt;"); break;
            case '>': target.Write("&gt;"); break;
            case '"': target.Write("&quot;"); break;
            case '\'': target.Write("&apos;"); break;
            default: target.Write(c); break;
        }
    }
}

/// <summary>
/// CLI commands are one per line: a value carrying a line break (or any other control character) would smuggle in a
/// command of its own, so rendering refuses it instead of passing it through.
/// </summary>
internal sealed class CliTextEncoder : CharacterEncoder
{
    protected override void Write(char c, TextWriter target)
    {
        if (char.IsControl(c))
            throw new TemplateException("a variable's value contains a control character (e.g. a line break), which a CLI template cannot carry");
        target.Write(c);
    }
}
