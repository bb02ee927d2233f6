using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Onboarding.Inventory.Contracts;

/// <summary>Stores a <see cref="DeviceId"/> as its uuid (EF Core), for every module that keeps device ids in its own tables.</summary>
public sealed class DeviceIdConverter() : ValueConverter<DeviceId, Guid>(id => id.Value, value => new DeviceId(value));
