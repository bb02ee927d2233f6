namespace Onboarding.Accounts.Data;

internal sealed class Customer
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public required string ContactEmail { get; set; }


    /// <summary>The public part of the API key, used to find the row; the secret part is only stored hashed.</summary>
    public required string ApiKeyId { get; set; }

    public required byte[] ApiKeyHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<Manufacturer> Manufacturers { get; } = [];
}
