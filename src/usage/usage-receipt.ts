/**
 * Receipt sequence numbers (amie-usage.md 5.3, "later means the higher
 * receipt sequence number"): each message takes one value of
 * amie_usage_receipt_seq; its record at index i gets value * 2^20 + i, so
 * numbers increase in receipt order and in array order. A 1 MiB body holds
 * fewer than 2^20 records. The loader computes the same in SQL.
 */
export const RECORDS_PER_RECEIPT = 1048576;

export function receiptSeq(base: string, index: number): string {
  return (BigInt(base) * BigInt(RECORDS_PER_RECEIPT) + BigInt(index)).toString();
}
