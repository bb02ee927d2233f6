using Onboarding.Redirect.Orders;

namespace Onboarding.Redirect.Api;

internal sealed record ManufacturerSignUpRequest(string? Name, string? ContactEmail);

/// <param name="ApiKey">Shown only in this response; send it as <c>X-Manufacturer-Key</c>.</param>
internal sealed record ManufacturerSignUpResponse(Guid Id, string Name, string ContactEmail, DateTimeOffset CreatedAt, string ApiKey);

internal sealed record ManufacturerProfile(Guid Id, string Name, string ContactEmail, DateTimeOffset CreatedAt);

internal sealed record ManufacturerKeyRotated(string ApiKey);

/// <param name="Source">SubjectSerialNumber, SubjectCommonName, SanDnsName, SanUri or SanHardwareModuleName.</param>
/// <param name="Pattern">Optional regular expression over that field with a named group <c>serial</c>.</param>
internal sealed record SerialRuleRequest(string? Source, string? Pattern);

internal sealed record DeviceTypeRequest(string? Name, string? CaPem, SerialRuleRequest? Serial);

internal sealed record FactoryCaCertificateView(string Subject, string Sha256Fingerprint, DateTimeOffset NotAfter);

internal sealed record DeviceTypeView(Guid Id, string Name, IReadOnlyList<FactoryCaCertificateView> CaCertificates, string SerialSource, string? SerialPattern, DateTimeOffset CreatedAt);

internal sealed record HostKeyView(string Fingerprint, string? Algorithm, string? PublicKey);

/// <param name="ClientPublicKey">With credential mode public-key: the key (authorized_keys form) to register at the NMS.</param>
internal sealed record NmsSftpView(string Host, int Port, string Username, string CredentialMode, bool HasPassphrase, string? ClientPublicKey, IReadOnlyList<HostKeyView> HostKeys);

internal sealed record NmsProfileView(
    Guid Id,
    Guid CustomerId,
    string? CustomerName,
    Guid? NmsManufacturerId,
    NmsSftpView Sftp,
    string BootstrapUrl,
    bool HasBootstrapTrustAnchor,
    string? CallHomeHost,
    int? CallHomePort,
    bool HasOwnerCertificate,
    bool HasSignedRedirectInformation,
    DateTimeOffset? IssuedAt,
    DateTimeOffset CreatedAt);

internal sealed record OrderRequest(string? SerialNumber, string? NmsProfileId, string? DeviceTypeId);

internal sealed record OrderUpdateRequest(string? NmsProfileId);

internal sealed record OrderView(Guid Id, string SerialNumber, Guid NmsProfileId, Guid? DeviceTypeId, OrderState State, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record OrderEventView(OrderState State, DateTimeOffset At, string? Detail);

internal sealed record OrderDetail(OrderView Order, IReadOnlyList<OrderEventView> Timeline);

internal sealed record BulkOrdersCreated(int Created);
