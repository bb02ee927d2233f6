using System.Text.Json;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Tests;

public class DeviceIdTests
{
    [Fact]
    public void A_device_id_is_a_plain_uuid_in_json_and_in_text()
    {
        var id = new DeviceId(Guid.Parse("0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d"));

        Assert.Equal("\"0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d\"", JsonSerializer.Serialize(id));
        Assert.Equal(id, JsonSerializer.Deserialize<DeviceId>("\"0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d\""));
        Assert.Equal("0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d", id.ToString());
        Assert.Equal(id, DeviceId.Parse(id.ToString(), null));
    }

    [Theory]
    [InlineData("SN-1")]
    [InlineData("")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3")]
    public void Anything_else_is_not_a_device_id(string text)
    {
        Assert.False(DeviceId.TryParse(text, null, out _));
        Assert.Contains("is not a device id", Assert.Throws<FormatException>(() => DeviceId.Parse(text, null)).Message, StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DeviceId>(JsonSerializer.Serialize(text)));
    }

    [Fact]
    public void New_ids_differ()
    {
        Assert.NotEqual(DeviceId.New(), DeviceId.New());
    }
}
