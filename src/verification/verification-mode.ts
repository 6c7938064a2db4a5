/** The banner's verification column for a provider with a status API (never a credential). */
export function verificationMode(
  inquiry: { apiUrl: string } | null | undefined,
  variable: string,
): string {
  if (!inquiry)
    return `off: published on the callback alone (${variable}=inquiry and its API settings confirm it)`;
  let where = inquiry.apiUrl;
  try {
    where = new URL(inquiry.apiUrl).origin;
  } catch {
    // keep it as configured
  }
  return `status inquiry at ${where}`;
}
