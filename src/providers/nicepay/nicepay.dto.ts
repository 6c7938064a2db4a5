import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { NICEPAY_STATUS } from './nicepay.facts.js';
import { IsPrintable } from '../../common/printable.js';

/**
 * A NICEPAY API v2 checkout notification (form fields). Only the fields the gateway relies on are
 * validated; every other field (card, VA, convenience-store extras, and misspellings seen in real
 * traffic such as `issuBankCd`) is accepted as sent and kept in `raw`.
 */
export class NicepayNotificationDto {
  @ApiProperty({
    description: 'NICEPAY transaction id; its first 10 characters are the iMid',
    example: 'IONPAYTEST02202511211200001234',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9]{30}$/, { message: 'tXid must be 30 letters or digits' })
  tXid!: string;

  @ApiProperty({
    description: 'SHA-256(iMid + tXid + amt + merchantKey), lowercase hex',
    example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  })
  @IsString()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'merchantToken must be 64 hexadecimal characters' })
  merchantToken!: string;

  @ApiProperty({ description: "The merchant's order number", example: 'ORD-20251121-0001' })
  @IsString()
  @Matches(/\S/, { message: 'referenceNo must not be empty' })
  @IsPrintable()
  @MaxLength(40)
  referenceNo!: string;

  @ApiProperty({
    description: 'Amount in the smallest currency unit NICEPAY uses (IDR: rupiah)',
    example: '150000',
  })
  @IsString()
  @Matches(/^\d{1,12}$/, { message: 'amt must be a whole amount of up to 12 digits' })
  amt!: string;

  @ApiProperty({
    description: '0 deposit, 1 reversal',
    enum: Object.keys(NICEPAY_STATUS),
    example: '0',
  })
  @IsString()
  @IsIn(Object.keys(NICEPAY_STATUS), { message: 'status must be 0 (deposit) or 1 (reversal)' })
  status!: string;

  @ApiProperty({
    description:
      '01 card, 02 VA, 03 convenience store, 04 ClickPay, 05 e-wallet, 06 payloan, 08 QRIS, 09 GPN',
    example: '02',
  })
  @IsString()
  @Matches(/^\d{2}$/, { message: 'payMethod must be a two-digit code' })
  payMethod!: string;

  @ApiPropertyOptional({ example: 'IDR' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{3}$/, { message: 'currency must be a 3-letter code' })
  currency?: string;

  @ApiPropertyOptional({ description: 'YYYYMMDD', example: '20251121' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{8}$/, { message: 'transDt must be YYYYMMDD' })
  transDt?: string;

  @ApiPropertyOptional({ description: 'HH24MISS', example: '120000' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{6}$/, { message: 'transTm must be HH24MISS' })
  transTm?: string;

  @ApiPropertyOptional({ description: 'VA / other methods: deposit date YYYYMMDD' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{8}$/, { message: 'depositDt must be YYYYMMDD' })
  depositDt?: string;

  @ApiPropertyOptional({ description: 'VA / other methods: deposit time HH24MISS' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{6}$/, { message: 'depositTm must be HH24MISS' })
  depositTm?: string;

  @ApiPropertyOptional({ description: 'VA: bank code', example: 'BMRI' })
  @IsOptional()
  @IsString()
  bankCd?: string;

  @ApiPropertyOptional({ description: 'Other methods: partner code', example: 'ALMA' })
  @IsOptional()
  @IsString()
  mitraCd?: string;

  @ApiPropertyOptional({ description: 'Card: service fee' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,12}(\.\d{1,2})?$/, { message: 'fee must be a decimal amount' })
  fee?: string;

  @ApiPropertyOptional({ example: 'Order ORD-20251121-0001' })
  @IsOptional()
  @IsString()
  goodsNm?: string;

  @ApiPropertyOptional({ example: 'Budi Santoso' })
  @IsOptional()
  @IsString()
  billingNm?: string;

  @ApiPropertyOptional({
    description: '0 non-proceeding, 1 normal, 2 overpaid, 3 underpaid',
    example: '1',
  })
  @IsOptional()
  @IsString()
  matchCl?: string;

  [field: string]: unknown;
}
