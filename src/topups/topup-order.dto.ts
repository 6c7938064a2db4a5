import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { TOPUP_PROVIDERS } from './topup-names.js';

const prepaid = (order: TopupOrderDto) => order.inquiryId === undefined || order.inquiryId === null;
/** Required for a prepaid order; checked whenever sent (a postpaid order may carry it too). */
const prepaidOrSent = (field: 'product' | 'destination') => (order: TopupOrderDto) =>
  prepaid(order) || order[field] !== undefined;

/**
 * What a fulfilment service asks for: the `data` of a `topup.requested` command, and the body of
 * `POST /topups`. Unknown fields are refused, so a misspelt one is never silently dropped.
 */
export class TopupOrderDto {
  @ApiProperty({ enum: TOPUP_PROVIDERS, example: 'ppob' })
  @IsIn(TOPUP_PROVIDERS)
  provider!: string;

  @ApiPropertyOptional({
    description: 'Merchant account at the provider; each provider has one (`default`) today.',
    example: 'default',
    default: 'default',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[\w.-]{1,128}$/, { message: 'account must be 1-128 letters, digits, . _ or -' })
  account?: string;

  @ApiProperty({
    description:
      'Your unique reference for this order (the provider refid / ref_id, and the event subject). ' +
      'Sending it again never places a second order.',
    example: '10327',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,64}$/, {
    message: 'reference must be 1-64 letters, digits, . _ : or -',
  })
  reference!: string;

  @ApiPropertyOptional({
    description: 'Product code (prepaid). Required without inquiryId.',
    example: 'S10',
  })
  @ValidateIf(prepaidOrSent('product'))
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,32}$/, { message: 'product must be 1-32 letters, digits, . _ or -' })
  product?: string;

  @ApiPropertyOptional({
    description: 'Customer number (phone, meter id). Required without inquiryId.',
    example: '08123214214',
  })
  @ValidateIf(prepaidOrSent('destination'))
  @IsString()
  @Matches(/^\+?[0-9A-Za-z]{3,32}$/, { message: 'destination must be 3-32 letters or digits' })
  destination?: string;

  @ApiPropertyOptional({
    description: 'Postpaid (PPOB only): the trx_id of an earlier inquiry answer.',
    example: '6748324',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: 'inquiryId must be 1-64 letters, digits, . _ or -',
  })
  inquiryId?: string;
}

/** An order as the gateway knows it: what `POST /topups` and a command's reply answer. */
export class TopupOrderView {
  @ApiProperty({ example: '3f8e3c1e-8a4f-4b8e-9a57-0d3f1c2b7e10' })
  id!: string;
  @ApiProperty({ example: 'ppob' })
  provider!: string;
  @ApiProperty({ example: 'default' })
  account!: string;
  @ApiProperty({ example: '10327' })
  reference!: string;
  @ApiProperty({ nullable: true, type: String, example: 'S10' })
  product!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '08123214214' })
  destination!: string | null;
  @ApiProperty({ nullable: true, type: String, example: null })
  inquiryId!: string | null;
  @ApiProperty({
    enum: ['queued', 'placed', 'failed', 'abandoned'],
    description:
      '`queued`: stored, being sent to the provider; `placed`: the provider holds it (its report ' +
      'settles it); `failed`: the provider refused it (see failureReason); `abandoned`: no answer ' +
      'after every attempt.',
  })
  placement!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "The transaction's current normalized status (its answer, then its report); null until the provider answered.",
    example: 'pending',
  })
  status!: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      "The transaction's version (as in its events' data.transactionVersion); null before any answer.",
    example: 1,
  })
  transactionVersion!: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'Waiting' })
  providerStatus!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'request trx diterima' })
  providerMessage!: string | null;
  @ApiProperty({ nullable: true, type: String, example: null })
  failureReason!: string | null;
  @ApiProperty({ example: 1 })
  attempts!: number;
  @ApiProperty({ example: '2025-11-21T05:00:00.000Z' })
  createdAt!: string;
  @ApiProperty({ example: '2025-11-21T05:00:00.412Z' })
  updatedAt!: string;
}
