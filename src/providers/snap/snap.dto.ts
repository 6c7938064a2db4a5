import { ApiPropertyOptional } from '@nestjs/swagger';

/**
 * A SNAP notification body. Every service has its own fields and unknown fields are kept: what
 * the event needs (reference, amount object, status) is checked by the mapper (snap.normalize.ts)
 * against the account's profile, and an authentic body that lacks it is quarantined.
 */
export class SnapNotificationDto {
  @ApiPropertyOptional({
    example: '   12345',
    description: 'VA: 8 characters, left-padded with spaces',
  })
  partnerServiceId?: string;
  @ApiPropertyOptional({ example: '000666' })
  customerNo?: string;
  @ApiPropertyOptional({ example: '   12345000666' })
  virtualAccountNo?: string;
  @ApiPropertyOptional({ example: 'ORDER-1', description: "VA: the merchant's reference" })
  trxId?: string;
  @ApiPropertyOptional({ example: 'PAY-20241120-0001', description: "VA: the provider's id" })
  paymentRequestId?: string;
  @ApiPropertyOptional({ example: { value: '10000.00', currency: 'IDR' } })
  paidAmount?: { value: string; currency: string };
  @ApiPropertyOptional({ example: '2024-11-20T14:14:15+07:00' })
  trxDateTime?: string;
  @ApiPropertyOptional({ example: 'ORDER-1', description: "Debit / QR: the merchant's reference" })
  originalPartnerReferenceNo?: string;
  @ApiPropertyOptional({
    example: '00',
    description: 'Debit / QR: the status code (profile statusMap)',
  })
  latestTransactionStatus?: string;
}
