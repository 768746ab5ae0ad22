// List prices used ONLY when the cost rows have nothing for a resource (new, or not billed yet) and for the ratio
// between two disk SKUs. Pay-as-you-go USD, West Europe, 2025 (azure.microsoft.com/pricing: managed disks,
// snapshots, IP addresses). Disks bill by tier (size rounded up to P10/E10/S10 …); a per-GiB price is a fair
// approximation for the small disks a Rocket.Chat deployment has. Every saving computed from here is labelled
// "estimated" with this file's reasoning in its note.

/** USD per GiB-month by disk SKU (P10 128 GiB ≈ $19.71, E10 ≈ $9.60, S10 ≈ $5.89; ZRS ≈ 1.5× LRS). */
export const DISK_USD_PER_GIB_MONTH: Readonly<Record<string, number>> = {
  Premium_LRS: 0.154,
  Premium_ZRS: 0.231,
  PremiumV2_LRS: 0.125,
  StandardSSD_LRS: 0.075,
  StandardSSD_ZRS: 0.113,
  Standard_LRS: 0.046,
};

/** USD per GiB-month of snapshot storage (full size; incremental snapshots bill only their deltas). */
export const SNAPSHOT_USD_PER_GIB_MONTH: Readonly<Record<string, number>> = {
  Standard_LRS: 0.05,
  Standard_ZRS: 0.0625,
  Premium_LRS: 0.132,
};

/** A static public IP, per month (Standard $0.005/h, Basic $0.0036/h). */
export const PUBLIC_IP_USD_MONTH: Readonly<Record<string, number>> = { Standard: 3.65, Basic: 2.63 };

/** The Standard SKU that replaces a Premium one with the same redundancy. */
export function standardFor(sku: string): string | undefined {
  return { Premium_LRS: 'StandardSSD_LRS', Premium_ZRS: 'StandardSSD_ZRS', PremiumV2_LRS: 'StandardSSD_LRS' }[sku];
}
